import { existsSync, readdirSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "vite";
import { WEB_DIST } from "../../src/http/routes/web-app.ts";

/** The newest change among the app's sources, so a build older than its sources is made again. */
function newestSource(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newestSource(join(path, name))));
}

/**
 * Builds the agent web app when web/dist is missing or older than web/src (a fresh checkout,
 * or sources changed since `npm install`). It builds beside it and swaps it in whole, so test
 * files starting together never serve a half-written build.
 */
export async function ensureWebBuild(): Promise<void> {
  const index = join(WEB_DIST, "index.html");
  const sources = Math.max(
    newestSource("web/src"),
    newestSource("web/index.html"),
    newestSource("web/vite.config.ts"),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const base = WEB_DIST.replace(/\/$/, "");
  const tmp = `${base}-${process.pid}-${Date.now()}`;
  // vitest sets NODE_ENV=test, which Vite would follow into a development build of React
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      configFile: "web/vite.config.ts",
      logLevel: "error",
      build: { outDir: tmp, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const old = `${tmp}-old`;
  await rename(base, old).catch(() => undefined);
  try {
    await rename(tmp, base);
  } catch {
    // another test file swapped in its build first: the same sources, so either will do
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
