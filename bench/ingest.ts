import { spawn } from "node:child_process";
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
import {
  type Backend,
  type BenchArgs,
  databaseCpuMicros,
  type Figure,
  freshDatabase,
  pool,
} from "./harness.ts";
import { type Ev, makeEvents } from "./ingest-events.ts";

const BATCH = 100;
const CLIENTS = 8;

async function httpRun(
  database: Database,
  events: Ev[],
): Promise<{
  perSec: number;
  acceptPerSec: number;
  p50: number;
  p99: number;
  stored: number;
  cpuPerEvent: number;
  clientCpuPerEvent: number;
  walPerEvent: number | undefined;
  dbCpuPerEvent: number | undefined;
}> {
  const ws = await createWorkspace(database.db, { name: "Bench", slug: "bench" });
  const { token } = await createApiKey(database.db, { workspaceId: ws.id, kind: "write" });
  const config = loadConfig({ LOG_LEVEL: "silent", RAPPORT_DATA_DIR: "./.bench" });
  const logger = pino({ level: "silent" });
  const app = await buildApp({ config, database, logger });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  // the same worker as `rapport start`: events count once they are on the timeline, not when accepted
  const worker = createWorker({ database, tasks: allTasks, queues: queueConcurrency, logger, pollMs: 200 });
  await worker.start();
  const stored = async (workspaceId: string) =>
    (
      await rows<{ n: number }>(
        database.db,
        sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${workspaceId}`,
      )
    )[0]?.n ?? 0;
  const onTimeline = async (workspaceId: string, n: number) => {
    let now = await stored(workspaceId);
    for (let waited = 0; now < n && waited < 600_000; waited += 25) {
      await new Promise((r) => setTimeout(r, 25));
      now = await stored(workspaceId);
    }
    return now;
  };
  // A server runs for days: its code is compiled and its connections open long before a burst.
  // A tenth of the run (at most 10,000 events) goes first to another workspace, so the figure
  // is the server's steady pace and not its first seconds' (the raw insert below runs warm
  // too, after this). The measured workspace still starts empty: every person is new to it.
  const warmup = Math.min(10_000, Math.ceil(events.length / 10));
  const warmWs = await createWorkspace(database.db, { name: "Bench warm-up", slug: "bench-warm-up" });
  const warmKey = await createApiKey(database.db, { workspaceId: warmWs.id, kind: "write" });
  await runClients(url, warmKey.token, warmup);
  await onTimeline(warmWs.id, warmup);

  const wal0 = await walPosition(database);
  const db0 = database.kind === "postgres" ? databaseCpuMicros() : undefined;
  const cpu0 = process.cpuUsage();
  // the clients run in their own process, so the server's event loop is not shared with them
  const client = await runClients(url, token, events.length);
  const clientDone = performance.now();
  const acceptSecs = client.seconds;
  const count = await onTimeline(ws.id, events.length);
  // from the first request sent to the last event on the timeline
  const secs = client.seconds + (performance.now() - clientDone) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const db1 = db0 === undefined ? undefined : databaseCpuMicros();
  const wal = await walSince(database, wal0);
  await worker.stop({ timeoutMs: 5000 });
  await app.close();
  return {
    perSec: events.length / secs,
    acceptPerSec: events.length / acceptSecs,
    p50: client.p50,
    p99: client.p99,
    stored: count,
    cpuPerEvent: (cpu.user + cpu.system) / events.length,
    clientCpuPerEvent: client.cpuPerEvent,
    walPerEvent: wal === undefined ? undefined : wal / events.length,
    dbCpuPerEvent: db0 === undefined || db1 === undefined ? undefined : (db1 - db0) / events.length,
  };
}

/** Where the server's write-ahead log is now (PostgreSQL only: PGlite's is its own affair). */
async function walPosition(database: Database): Promise<string | undefined> {
  if (database.kind !== "postgres") return undefined;
  const [r] = await rows<{ l: string }>(database.db, sql`SELECT pg_current_wal_lsn()::text AS l`);
  return r?.l;
}

/** Bytes of write-ahead log written since `from`, by every session of the server. */
async function walSince(database: Database, from: string | undefined): Promise<number | undefined> {
  if (from === undefined) return undefined;
  const [r] = await rows<{ b: string }>(
    database.db,
    sql`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::text AS b`,
  );
  return Number(r?.b);
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

type ClientResult = { seconds: number; p50: number; p99: number; cpuPerEvent: number };

/** Runs bench/ingest-client.ts in a child process and reads its one-line JSON result. */
function runClients(url: string, writeKey: string, n: number): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        "bench/ingest-client.ts",
        url,
        writeKey,
        String(n),
        String(BATCH),
        String(CLIENTS),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += String(d);
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the client process failed (${code}): ${out}`));
      const parsed: unknown = JSON.parse(out.trim().split("\n").pop() ?? "{}");
      if (
        typeof parsed !== "object" ||
        parsed === null ||
        !("seconds" in parsed) ||
        !("p50" in parsed) ||
        !("p99" in parsed) ||
        !("cpuPerEvent" in parsed)
      ) {
        return reject(new Error(`unexpected client output: ${out}`));
      }
      resolve({
        seconds: Number(parsed.seconds),
        p50: Number(parsed.p50),
        p99: Number(parsed.p99),
        cpuPerEvent: Number(parsed.cpuPerEvent),
      });
    });
  });
}

/** The reference: the same rows written straight into the events table with multi-row INSERTs. */
async function rawInsertRun(
  database: Database,
  backend: Backend,
  url: string,
  events: Ev[],
): Promise<{ perSec: number; walPerRow: number | undefined; dbCpuPerRow: number | undefined }> {
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
  const wal0 = await walPosition(database);
  const db0 = backend === "postgres" ? databaseCpuMicros() : undefined;
  let db1: number | undefined;
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
    // read before the connections close: a closed connection's process takes its CPU time along
    db1 = db0 === undefined ? undefined : databaseCpuMicros();
    await p.end();
  }
  const perSec = events.length / ((performance.now() - t0) / 1000);
  const wal = await walSince(database, wal0);
  return {
    perSec,
    walPerRow: wal === undefined ? undefined : wal / events.length,
    dbCpuPerRow: db0 === undefined || db1 === undefined ? undefined : (db1 - db0) / events.length,
  };
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
    // where the time goes, for whoever makes it faster: the server process's own CPU (HTTP,
    // validation, the fold; on PostgreSQL not the database's, on PGlite that too) and the log
    // volume each way writes
    const wal =
      http.walPerEvent === undefined || raw.walPerRow === undefined
        ? ""
        : `; WAL ${Math.round(http.walPerEvent)} bytes/event vs raw ${Math.round(raw.walPerRow)} bytes/row`;
    const dbCpu =
      http.dbCpuPerEvent === undefined || raw.dbCpuPerRow === undefined
        ? ""
        : `; database CPU ${http.dbCpuPerEvent.toFixed(1)} µs/event vs raw ${raw.dbCpuPerRow.toFixed(1)} µs/row`;
    console.log(
      `ingest on ${backend}: ${n} events through /v1/batch onto the timeline at ${Math.round(http.perSec)} events/s ` +
        `(accepted at ${Math.round(http.acceptPerSec)} events/s; request p50 ${http.p50.toFixed(1)} ms, ` +
        `p99 ${http.p99.toFixed(1)} ms; server process CPU ${http.cpuPerEvent.toFixed(1)} µs/event${dbCpu}; ` +
        `load generator CPU ${http.clientCpuPerEvent.toFixed(1)} µs/event${wal}); ` +
        `raw INSERT ${Math.round(raw.perSec)} rows/s`,
    );
    return [
      {
        figure: `ingest ${backend}`,
        value: http.perSec,
        unit: "events/s",
        reference: raw.perSec,
        refUnit: "rows/s",
      },
    ];
  } finally {
    await cleanup();
  }
}
