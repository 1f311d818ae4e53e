import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import pino from "pino";
import { chromium } from "playwright-core";
import { build } from "vite";
import { loadConfig } from "../src/config.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { buildApp } from "../src/http/app.ts";
import { WEB_DIST } from "../src/http/routes/web-app.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { type Backend, type BenchArgs, type Figure, freshDatabase } from "./harness.ts";

const JS_BUDGET_KB = 250;
const TTI_BUDGET_MS = 1500;
const LOADS = 5;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "bench password, long enough";

type Sizes = { js: number; css: number; files: string[] };
let built: Promise<Sizes> | undefined;

/**
 * Builds the production app (beside web/dist, then swapped in whole, so the server serves it)
 * and weighs the initial route gzipped: index.html's script, its modulepreloads and every
 * module they import statically (dynamic imports load later), and its stylesheets.
 */
function buildAndWeigh(): Promise<Sizes> {
  built ??= (async () => {
    const base = WEB_DIST.replace(/\/$/, "");
    const out = `${base}-bench-${process.pid}`;
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      await build({
        configFile: "web/vite.config.ts",
        logLevel: "error",
        build: { outDir: out, emptyOutDir: true },
      });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    const html = readFileSync(join(out, "index.html"), "utf8");
    const refs = (re: RegExp) => [...html.matchAll(re)].map((m) => (m[1] ?? "").replace(/^\/inbox\//, ""));
    const scripts = refs(/<script[^>]+src="([^"]+)"/g);
    const preloads = refs(/<link rel="modulepreload"[^>]+href="([^"]+)"/g);
    const styles = refs(/<link rel="stylesheet"[^>]+href="([^"]+)"/g);
    const js = new Set<string>();
    const follow = (file: string) => {
      if (js.has(file)) return;
      js.add(file);
      const code = readFileSync(join(out, file), "utf8");
      // static imports only: `import{a as b}from"./x.js"`, `import"./y.js"`; never `import("./z.js")`
      for (const m of code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']\.\/([^"']+\.js)["']/g)) {
        if (m[1]) follow(join("assets", m[1]));
      }
    };
    for (const f of [...scripts, ...preloads]) follow(f);
    const gz = (f: string) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
    const sizes = {
      js: [...js].reduce((n, f) => n + gz(f), 0) / 1024,
      css: styles.reduce((n, f) => n + gz(f), 0) / 1024,
      files: [...js, ...styles],
    };
    const old = `${base}-bench-old-${process.pid}`;
    await rename(base, old).catch(() => undefined);
    await rename(out, base);
    rmSync(old, { recursive: true, force: true });
    return sizes;
  })();
  return built;
}

/** N customers who each wrote once, a conversation each (most open), inserted in bulk. */
export async function seedForBench(db: Db, ws: string, inboxId: string, n: number): Promise<void> {
  await db.execute(sql`INSERT INTO customers (workspace_id, id, traits, first_seen_at, last_seen_at)
    SELECT ${ws}::uuid, md5(${ws} || 'cu' || g)::uuid,
      jsonb_build_object('name', 'Customer ' || g, 'phone', '+1415' || lpad(g::text, 7, '0')),
      now() - g * interval '1 minute', now() - g * interval '1 minute'
    FROM generate_series(1, ${n}) g`);
  await db.execute(sql`INSERT INTO conversations (workspace_id, id, number, inbox_id, customer_id, channel,
      contact_address, status, priority, labels, last_message_at, last_customer_message_at, created_at, updated_at)
    SELECT ${ws}::uuid, md5(${ws} || 'co' || g)::uuid, g, ${inboxId}::uuid, md5(${ws} || 'cu' || g)::uuid, 'sms',
      '+1415' || lpad(g::text, 7, '0'),
      CASE WHEN g % 10 = 0 THEN 'resolved' WHEN g % 10 = 1 THEN 'pending' ELSE 'open' END,
      (ARRAY['none', 'none', 'low', 'medium', 'high', 'urgent'])[1 + g % 6],
      CASE WHEN g % 4 = 0 THEN '["billing"]'::jsonb ELSE '[]'::jsonb END,
      now() - g * interval '1 minute', now() - g * interval '1 minute',
      now() - g * interval '1 minute', now() - g * interval '1 minute'
    FROM generate_series(1, ${n}) g`);
  await db.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction,
      kind, text, created_at)
    SELECT ${ws}::uuid, md5(${ws} || 'm' || g)::uuid, md5(${ws} || 'co' || g)::uuid, ${inboxId}::uuid, 'inbound',
      'message', 'Hello, this is question number ' || g || ' about my order.', now() - g * interval '1 minute'
    FROM generate_series(1, ${n}) g`);
  await db.execute(sql`INSERT INTO conversation_counters (workspace_id, next) VALUES (${ws}, ${n + 1})
    ON CONFLICT (workspace_id) DO UPDATE SET next = EXCLUDED.next`);
}

// time to interactive, measured inside the page so the browser driver's round trips stay out:
// from navigation start (the page's time origin) until the first rows are drawn and the listbox
// has answered a key (focused, then J: the active row moves to the second one)
const TTI_DEFINITION =
  "navigation start → first conversation rows drawn and the list answering a key (J moves to row 2), median of 5 cold loads";

const PROBE = `window.__tti = new Promise((resolve) => {
  const answered = (box) => {
    const id = box.getAttribute("aria-activedescendant");
    const row = id && document.getElementById(id);
    if (row && row.getAttribute("aria-posinset") === "2") resolve(performance.now());
    else requestAnimationFrame(() => answered(box));
  };
  const seen = new MutationObserver(() => {
    const box = document.querySelector("[role=listbox]");
    if (!box || !box.querySelector("[role=option]")) return;
    seen.disconnect();
    box.focus();
    setTimeout(() => {
      box.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }));
      answered(box);
    }, 0);
  });
  seen.observe(document, { childList: true, subtree: true });
});`;

/** Loads /inbox/ in a fresh browser context `LOADS` times (after one warm-up): each one's TTI. */
async function measureTti(base: string, cookie: { name: string; value: string }): Promise<number[]> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless=new"],
  });
  try {
    const times: number[] = [];
    for (let i = 0; i <= LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ ...cookie, url: base }]);
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      await page.goto(`${base}/inbox/`, { waitUntil: "commit" });
      const ms = Number(await page.evaluate("window.__tti"));
      if (process.env.BENCH_WEB_TRACE) {
        // where the time went: each request's start and end, in ms since navigation start
        console.log(
          await page.evaluate(
            `performance.getEntriesByType("resource").map((e) => e.name.replace(location.origin, "") + " " + Math.round(e.startTime) + "→" + Math.round(e.responseEnd)).join("\\n")`,
          ),
        );
      }
      if (i > 0) times.push(ms);
      await context.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}

/**
 * `web`: the first screen's weight (gzipped JS and CSS of /inbox/'s initial route, against the
 * 250 KB JS budget) and its time to interactive with N conversations (default 10,000) in a fresh
 * database, median of 5 loads in headless chromium, against the 1.5 s budget.
 */
export async function benchWeb(args: BenchArgs, backend: Backend): Promise<Figure[]> {
  const first = built === undefined;
  const sizes = await buildAndWeigh();
  const figures: Figure[] = [];
  if (first) {
    console.log(
      `web initial route: ${sizes.js.toFixed(1)} KB JS, ${sizes.css.toFixed(1)} KB CSS gzipped (${sizes.files.join(", ")})`,
    );
    figures.push(
      {
        figure: "web initial js gzip",
        value: sizes.js,
        unit: "KB",
        reference: JS_BUDGET_KB,
        refUnit: "KB (budget)",
      },
      {
        figure: "web initial css gzip",
        value: sizes.css,
        unit: "KB",
        reference: JS_BUDGET_KB,
        refUnit: "KB (JS budget)",
      },
    );
  }
  if (!existsSync(CHROMIUM)) {
    console.log(`skipping web time to interactive on ${backend}: no browser at ${CHROMIUM}`);
    return figures;
  }
  const n = args.size ?? 10_000;
  const { database, cleanup } = await freshDatabase(backend, args.databaseUrl);
  const dataDir = mkdtempSync(join(tmpdir(), "rapport-bench-web-"));
  const config = loadConfig({ LOG_LEVEL: "silent", RAPPORT_DATA_DIR: dataDir });
  const app = await buildApp({ config, database, logger: pino({ level: "silent" }) });
  try {
    const db = database.db;
    const ws = await createWorkspace(db, { name: "Bench web", slug: "bench-web" });
    const inbox = await createInbox(db, ws.id, {
      kind: "sms",
      name: "Support line",
      address: "+15005550006",
    });
    const email = "agent@bench.example";
    await createUser(db, {
      workspaceId: ws.id,
      email,
      name: "Bench Agent",
      role: "agent",
      status: "active",
      passwordHash: await hashPassword(PASSWORD),
    });
    const seeded = performance.now();
    await seedForBench(db, ws.id, inbox.id, n);
    const seedMs = performance.now() - seeded;
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const session = /rapport_session=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1];
    if (!session) throw new Error(`sign-in failed (${login.status}): ${await login.text()}`);
    const times = await measureTti(base, { name: "rapport_session", value: session });
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `web on ${backend}: ${n} conversations seeded in ${Math.round(seedMs)} ms; time to interactive of /inbox/ ` +
        `(${TTI_DEFINITION}): median ${Math.round(median)} ms of ${times.map((t) => Math.round(t)).join(", ")} ms`,
    );
    figures.push({
      figure: `web ${backend} tti`,
      value: median,
      unit: "ms",
      reference: TTI_BUDGET_MS,
      refUnit: "ms (budget)",
    });
    return figures;
  } finally {
    await app.close();
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
