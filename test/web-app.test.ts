import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { WEB_DIST, webAppRoutes } from "../src/http/routes/web-app.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";

let app: App;
let cookies: Record<string, string>;

beforeAll(async () => {
  await ensureWebBuild();
  app = await testApp();
  cookies = (await signedIn(app, "agent")).cookies;
}, 120_000);
afterAll(async () => {
  await app?.close();
});

const get = (url: string, withCookie = true) =>
  app.inject({ method: "GET", url, ...(withCookie ? { cookies } : {}) });

describe("the agent web app under /inbox/", () => {
  it("serves index.html to a signed-in agent, never cached, with a fresh nonce in a strict CSP", async () => {
    const res = await get("/inbox/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe("no-cache");
    const csp = String(res.headers["content-security-policy"]);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/=_-]{16,}$/);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
    expect(csp).toMatch(/connect-src 'self' ws:\/\/localhost(:\d+)?/);
    expect(csp).toContain("frame-ancestors 'none'");
    // pictures of commented posts come from Meta's CDNs only, never from anywhere on the web
    expect(csp).toContain("img-src 'self' data: https://*.fbcdn.net https://*.cdninstagram.com;");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.body).toContain(`nonce="${nonce}"`);
    expect(res.body).not.toContain("RAPPORT_CSP_NONCE");
    const again = await get("/inbox/");
    expect(again.headers["content-security-policy"]).not.toBe(csp);
  });

  it("answers index.html for any path of the app, and /inbox moves to /inbox/", async () => {
    const deep = await get("/inbox/c/0193a7c2-0000-7000-8000-000000000000");
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('<div id="root"></div>');
    const bare = await get("/inbox");
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe("/inbox/");
  });

  it("sends a signed-out visitor to sign in, coming back to the page asked for", async () => {
    const res = await get("/inbox/c/abc", false);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent("/inbox/c/abc")}`);
    const stale = await app.inject({ method: "GET", url: "/inbox/", cookies: { rapport_session: "nope" } });
    expect(stale.statusCode).toBe(303);
  });

  it("serves the hashed assets index.html names, cached for a year, with their types", async () => {
    const html = (await get("/inbox/")).body;
    const script = /src="(\/inbox\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/inbox\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(script).toMatch(/^\/inbox\/assets\/[\w.-]+\.js$/);
    expect(style).toMatch(/^\/inbox\/assets\/[\w.-]+\.css$/);
    // assets are public: no session needed, as a CDN in front would fetch them
    const js = await get(script ?? "", false);
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.rawPayload.length).toBe(Number(js.headers["content-length"]));
    const css = await get(style ?? "", false);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    // the lazily loaded conversation view is a chunk of its own
    expect((await readdir(join(WEB_DIST, "assets"))).some((f) => f.startsWith("ConversationView-"))).toBe(
      true,
    );
  });

  it("sends the build's brotli or gzip file to a browser that takes it, the same bytes once unpacked", async () => {
    const html = (await get("/inbox/")).body;
    const script = /src="(\/inbox\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? "";
    const raw = await readFile(join(WEB_DIST, script.replace("/inbox/", "")));
    const asked = (encoding: string) =>
      app.inject({ method: "GET", url: script, headers: { "accept-encoding": encoding } });

    const br = await asked("gzip, deflate, br");
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toContain("accept-encoding");
    expect(brotliDecompressSync(br.rawPayload).equals(raw)).toBe(true);
    const gz = await asked("gzip;q=1.0, br;q=0");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.rawPayload).equals(raw)).toBe(true);
    expect(Number(gz.headers["content-length"])).toBe(gz.rawPayload.length);
    const plain = await asked("identity");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.rawPayload.equals(raw)).toBe(true);
    // the packed files are not addresses of their own
    expect((await get(`${script}.gz`)).statusCode).toBe(404);
  });

  it("keeps the first screen within its budget: 250 KB gzipped for the scripts and styles index.html loads", async () => {
    const html = (await get("/inbox/")).body;
    const initial = [...html.matchAll(/(?:src|href)="\/inbox\/(assets\/[^"]+\.(?:js|css))"/g)].map(
      (m) => m[1],
    );
    expect(initial.length).toBeGreaterThanOrEqual(2);
    let total = 0;
    for (const file of initial) total += (await readFile(join(WEB_DIST, `${file}.gz`))).length;
    expect(total).toBeLessThan(250 * 1024);
  });

  it("answers 404 for a missing asset or a path that leaves the assets folder, never index.html", async () => {
    for (const url of [
      "/inbox/assets/nope-123.js",
      "/inbox/assets/..%2F..%2Fpackage.json",
      "/inbox/assets/%2E%2E%2Findex.html",
      "/inbox/assets/index.exe",
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe("web.asset_not_found");
    }
  });
});

describe("without a build", () => {
  it("answers a 503 page that says how to build the app", async () => {
    const empty = await mkdtemp(join(tmpdir(), "rapport-web-"));
    const bare = Fastify();
    await bare.register(webAppRoutes, { distDir: join(empty, "dist") });
    try {
      const res = await bare.inject({ method: "GET", url: "/inbox/" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toContain("npm run build:web");
      const deep = await bare.inject({ method: "GET", url: "/inbox/c/1" });
      expect(deep.statusCode).toBe(503);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
