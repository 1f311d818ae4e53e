import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { messagePage } from "../../pages/html.ts";
import { sessionPrincipal } from "../auth.ts";

/** Where `npm run build:web` writes the agent web app (web/vite.config.ts: outDir). */
export const WEB_DIST = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

// the placeholder web/vite.config.ts puts on every tag it writes (html.cspNonce)
const NONCE_PLACEHOLDER = "RAPPORT_CSP_NONCE";
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

/** The encodings the client takes (`Accept-Encoding`), leaving out any it refuses with q=0. */
function accepted(header: string | undefined): Set<string> {
  const taken = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (name && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))) taken.add(name);
  }
  return taken;
}

/** The live feed's origin for the policy; the Host header is the client's word, so only a plain host[:port] passes. */
function socketOrigins(request: FastifyRequest): string {
  const host = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(request.host) ? request.host : "";
  return host ? ` ${request.protocol === "https" ? "wss" : "ws"}://${host}` : "";
}

// the pictures of the Facebook posts and Instagram media comments belong to, loaded by the
// agent's browser from Meta's CDNs (Rapport never fetches them)
const META_IMAGE_HOSTS = "https://*.fbcdn.net https://*.cdninstagram.com";

/**
 * The app's policy: its own scripts and styles only (Mantine's style tags carry the nonce),
 * images of its own and of commented posts on Meta's CDNs, the API and live feed on this
 * origin, never framed.
 */
export function webAppCsp(nonce: string, sockets: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`,
    `img-src 'self' data: ${META_IMAGE_HOSTS}`,
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * `/inbox/*`: the agent web app, built beforehand into web/dist (the server never builds).
 * Hashed assets are cached for a year; index.html answers every other path (the app routes
 * itself), never cached, with a fresh CSP nonce. A signed-out visitor goes to sign in first.
 */
export const webAppRoutes: FastifyPluginAsync<{ distDir?: string }> = async (app, opts) => {
  const dist = opts.distDir ?? WEB_DIST;
  let index: { html: string; mtimeMs: number } | undefined;

  // one stat a request: a build made while the server runs (new asset names) is served at once
  async function indexHtml(): Promise<string | undefined> {
    const path = join(dist, "index.html");
    const found = await stat(path).catch(() => undefined);
    if (!found) return undefined;
    if (index?.mtimeMs !== found.mtimeMs) {
      const html = await readFile(path, "utf8").catch(() => undefined);
      index = html === undefined ? undefined : { html, mtimeMs: found.mtimeMs };
    }
    return index?.html;
  }

  async function sendIndex(request: FastifyRequest, reply: FastifyReply) {
    const html = await indexHtml();
    if (html === undefined) {
      return reply
        .status(503)
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("retry-after", "60")
        .send(
          messagePage({
            title: "The inbox is not built",
            message:
              "The agent web app has not been built on this server. Run `npm run build:web` " +
              "(npm install runs it too), then reload this page.",
          }),
        );
    }
    if (!(await sessionPrincipal(request))) {
      const next = request.url.split("?")[0] ?? "/inbox/";
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
    }
    const nonce = randomBytes(16).toString("base64");
    return reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", webAppCsp(nonce, socketOrigins(request)))
      .send(html.replaceAll(NONCE_PLACEHOLDER, nonce));
  }

  const hidden = { schema: { hide: true } };
  app.get("/inbox", hidden, (_request, reply) => reply.redirect("/inbox/", 301));
  app.get("/inbox/", hidden, sendIndex);
  app.get("/inbox/*", hidden, sendIndex);

  app.get<{ Params: { file: string } }>("/inbox/assets/:file", hidden, async (request, reply) => {
    const { file } = request.params;
    const type = TYPES[extname(file)];
    const path = join(dist, "assets", file);
    const found = ASSET_NAME.test(file) && type ? await stat(path).catch(() => undefined) : undefined;
    if (!found?.isFile()) {
      return reply.status(404).send({
        error: { code: "web.asset_not_found", message: `No file ${file} in the web app's build.` },
      });
    }
    // the build wrote .br and .gz beside each script and stylesheet: send the best one taken
    const encodings = accepted(request.headers["accept-encoding"]);
    let send: { path: string; size: number; encoding?: string } = { path, size: found.size };
    for (const [encoding, suffix] of [
      ["br", ".br"],
      ["gzip", ".gz"],
    ] as const) {
      if (!encodings.has(encoding)) continue;
      const packed = await stat(path + suffix).catch(() => undefined);
      if (packed?.isFile()) {
        send = { path: path + suffix, size: packed.size, encoding };
        break;
      }
    }
    if (send.encoding) reply.header("content-encoding", send.encoding);
    return (
      reply
        .type(type ?? "application/octet-stream")
        .header("content-length", send.size)
        .header("vary", "accept-encoding")
        // the name carries the content's hash: a new build gets new names
        .header("cache-control", "public, max-age=31536000, immutable")
        .send(createReadStream(send.path))
    );
  });
};
