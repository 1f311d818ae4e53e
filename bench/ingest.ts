import { sql } from "drizzle-orm";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.ts";
import { type Database, rows } from "../src/db/client.ts";
import { buildApp } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createWorker } from "../src/jobs/index.ts";
import { createApiKey } from "../src/platform/api-keys.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { allTasks, queueConcurrency } from "../src/tasks.ts";
import { type Backend, type BenchArgs, type Figure, freshDatabase, percentile, pool } from "./harness.ts";

const BATCH = 100;
const CLIENTS = 8;

type Ev = Record<string, unknown>;

/** A realistic mix over a pool of users: mostly tracks and pages, some identifies, some anonymous visitors. */
function makeEvents(n: number): Ev[] {
  const users = Math.max(50, Math.floor(n / 20));
  const out: Ev[] = [];
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const u = Math.floor(rnd() * users);
    const r = rnd();
    const base = {
      messageId: `bench-${i}`,
      timestamp: new Date(now - Math.floor(rnd() * 86_400_000)).toISOString(),
      context: { library: { name: "bench", version: "1" }, ip: "203.0.113.9", locale: "en-US" },
    };
    if (r < 0.7)
      out.push({
        ...base,
        type: "track",
        userId: `user-${u}`,
        event: "Song Played",
        properties: { track: `t${i % 500}`, ms: 1000 + (i % 9000) },
      });
    else if (r < 0.85)
      out.push({
        ...base,
        type: "page",
        userId: `user-${u}`,
        name: "Home",
        properties: { path: "/", referrer: "" },
      });
    else if (r < 0.9) out.push({ ...base, type: "screen", userId: `user-${u}`, name: "Player" });
    else if (r < 0.95)
      out.push({
        ...base,
        type: "identify",
        userId: `user-${u}`,
        traits: { email: `user-${u}@example.com`, plan: r < 0.93 ? "free" : "premium" },
      });
    else
      out.push({
        ...base,
        type: "track",
        anonymousId: `anon-${Math.floor(rnd() * users)}`,
        event: "Pricing Viewed",
      });
  }
  return out;
}

async function httpRun(
  database: Database,
  events: Ev[],
): Promise<{ perSec: number; acceptPerSec: number; p50: number; p99: number; stored: number }> {
  const ws = await createWorkspace(database.db, { name: "Bench", slug: "bench" });
  const { token } = await createApiKey(database.db, { workspaceId: ws.id, kind: "write" });
  const config = loadConfig({ LOG_LEVEL: "silent", RAPPORT_DATA_DIR: "./.bench" });
  const logger = pino({ level: "silent" });
  const app = await buildApp({ config, database, logger });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  // the same worker as `rapport start`: events count once they are on the timeline, not when accepted
  const worker = createWorker({ database, tasks: allTasks, queues: queueConcurrency, logger, pollMs: 200 });
  await worker.start();
  const auth = `Basic ${Buffer.from(`${token}:`).toString("base64")}`;
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += BATCH) {
    bodies.push(JSON.stringify({ batch: events.slice(i, i + BATCH), sentAt: new Date().toISOString() }));
  }
  const latencies: number[] = [];
  const t0 = performance.now();
  await pool(bodies, CLIENTS, async (body) => {
    const s = performance.now();
    const res = await fetch(`${url}/v1/batch`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body,
    });
    const json = (await res.json()) as { accepted?: number; rejected?: unknown[] };
    if (res.status !== 200 || (json.rejected?.length ?? 0) > 0)
      throw new Error(`batch failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    latencies.push(performance.now() - s);
  });
  const acceptSecs = (performance.now() - t0) / 1000;
  const count = async () =>
    (
      await rows<{ n: number }>(
        database.db,
        sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${ws.id}`,
      )
    )[0]?.n ?? 0;
  let stored = await count();
  for (let waited = 0; stored < events.length && waited < 600_000; waited += 25) {
    await new Promise((r) => setTimeout(r, 25));
    stored = await count();
  }
  const secs = (performance.now() - t0) / 1000;
  await worker.stop({ timeoutMs: 5000 });
  await app.close();
  latencies.sort((a, b) => a - b);
  return {
    perSec: events.length / secs,
    acceptPerSec: events.length / acceptSecs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    stored,
  };
}

const COLS = [
  "workspace_id",
  "id",
  "customer_id",
  "type",
  "name",
  "message_id",
  "user_id",
  "anonymous_id",
  "properties",
  "traits",
  "context",
  "timestamp",
  "received_at",
  "sent_at",
];

/** The reference: the same rows written straight into the events table with multi-row INSERTs. */
async function rawInsertRun(
  database: Database,
  backend: Backend,
  url: string,
  events: Ev[],
): Promise<number> {
  const ws = await createWorkspace(database.db, { name: "Bench raw", slug: "bench-raw" });
  const customers = Array.from({ length: 100 }, () => uuidv7());
  const now = new Date().toISOString();
  const rowsOf = (slice: Ev[]) =>
    slice.flatMap((e, i) => [
      ws.id,
      uuidv7(),
      customers[i % customers.length],
      e.type,
      e.event ?? e.name ?? null,
      `raw-${String(e.messageId)}`,
      e.userId ?? null,
      e.anonymousId ?? null,
      JSON.stringify(e.properties ?? {}),
      e.traits ? JSON.stringify(e.traits) : null,
      JSON.stringify(e.context ?? {}),
      e.timestamp,
      now,
      now,
    ]);
  const text = (n: number) =>
    `INSERT INTO events (${COLS.join(", ")}) VALUES ${Array.from({ length: n }, (_, r) => `(${COLS.map((_, c) => `$${r * COLS.length + c + 1}`).join(", ")})`).join(", ")}`;
  const slices: Ev[][] = [];
  for (let i = 0; i < events.length; i += BATCH) slices.push(events.slice(i, i + BATCH));
  const t0 = performance.now();
  if (backend === "pglite") {
    const client = database.pglite;
    if (!client) throw new Error("no PGlite client");
    for (const s of slices) await client.query(text(s.length), rowsOf(s));
  } else {
    const p = new pg.Pool({ connectionString: url, max: CLIENTS });
    await pool(slices, CLIENTS, async (s) => {
      await p.query(text(s.length), rowsOf(s));
    });
    await p.end();
  }
  return events.length / ((performance.now() - t0) / 1000);
}

/** `ingest`: events/s through /v1/batch (batches of 100, 8 clients) beside a raw multi-row INSERT. */
export async function benchIngest(args: BenchArgs, backend: Backend): Promise<Figure[]> {
  const n = args.size ?? 100_000;
  const events = makeEvents(n);
  const { database, cleanup } = await freshDatabase(backend, args.databaseUrl);
  try {
    const http = await httpRun(database, events);
    if (http.stored !== n) throw new Error(`stored ${http.stored} of ${n} events`);
    const raw = await rawInsertRun(database, backend, args.databaseUrl, events);
    console.log(
      `ingest on ${backend}: ${n} events through /v1/batch onto the timeline at ${Math.round(http.perSec)} events/s ` +
        `(accepted at ${Math.round(http.acceptPerSec)} events/s; request p50 ${http.p50.toFixed(1)} ms, ` +
        `p99 ${http.p99.toFixed(1)} ms); raw INSERT ${Math.round(raw)} rows/s`,
    );
    return [
      {
        figure: `ingest ${backend}`,
        value: http.perSec,
        unit: "events/s",
        reference: raw,
        refUnit: "rows/s",
      },
    ];
  } finally {
    await cleanup();
  }
}
