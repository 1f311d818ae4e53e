import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

/** The widget's browser files, as the server serves them. */
export const WIDGET_ASSETS = {
  "loader.js": { entry: "loader.ts", type: "application/javascript; charset=utf-8" },
  "frame.js": { entry: "frame/main.ts", type: "application/javascript; charset=utf-8" },
  "frame.css": { entry: "frame/frame.css", type: "text/css; charset=utf-8" },
} as const;
export type WidgetAssetName = keyof typeof WIDGET_ASSETS;

export type WidgetAsset = {
  body: Buffer;
  /** The same bytes gzipped, for browsers that accept it (all of them). */
  gzip: Buffer;
  contentType: string;
  /** A hash of the content: the ETag, and the `?v=` that lets the frame's files be cached for good. */
  version: string;
};

const WIDGET_DIR = fileURLToPath(new URL("../../../widget/", import.meta.url));

// built once per process on first request: `npm start` needs no build step, and the cost
// (tens of milliseconds) is paid by the first visitor only
const built = new Map<WidgetAssetName, Promise<WidgetAsset>>();

/**
 * One of the widget's files, bundled and minified by esbuild from the TypeScript and CSS
 * sources under `widget/` on first use, then kept in memory.
 */
export function widgetAsset(name: WidgetAssetName): Promise<WidgetAsset> {
  let hit = built.get(name);
  if (!hit) {
    hit = bundle(name);
    // a failed build is retried on the next request rather than remembered
    hit.catch(() => built.delete(name));
    built.set(name, hit);
  }
  return hit;
}

async function bundle(name: WidgetAssetName): Promise<WidgetAsset> {
  const spec = WIDGET_ASSETS[name];
  const result = await build({
    absWorkingDir: WIDGET_DIR,
    entryPoints: [spec.entry],
    bundle: true,
    minify: true,
    write: false,
    // plain scripts on the brand's pages: nothing leaks into their globals
    format: "iife",
    // browsers of the last few years, phones included
    target: ["chrome100", "firefox100", "safari15", "edge100"],
    legalComments: "none",
    logLevel: "silent",
    outdir: "out",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${name}`);
  const body = Buffer.from(file.contents);
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    contentType: spec.type,
    version: createHash("sha256").update(body).digest("hex").slice(0, 16),
  };
}
