import { sql } from "drizzle-orm";
import pg from "pg";
import pino from "pino";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { type Database, rows } from "../src/db/client.ts";
import { sendMany } from "../src/delivery/send.ts";
import { uuidv7 } from "../src/ids.ts";
import { createWorker } from "../src/jobs/index.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { allTasks, queueConcurrency } from "../src/tasks.ts";
import { type Backend, type BenchArgs, type Figure, freshDatabase, pool } from "./harness.ts";

const CHUNK = 1000;
const SENDERS = 4;

/** Customers with an email each, written straight into the tables (setup, not measured). */
async function seedCustomers(database: Database, workspaceId: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uuidv7());
  for (let i = 0; i < n; i += 5000) {
    const slice = ids.slice(i, i + 5000);
    await database.db.execute(sql`INSERT INTO customers (workspace_id, id, traits, first_seen_at, last_seen_at)
      SELECT ${workspaceId}, x.v::uuid, jsonb_build_object('first_name', 'Listener ' || x.n), now(), now()
      FROM jsonb_array_elements_text(${JSON.stringify(slice)}::jsonb) WITH ORDINALITY AS x(v, n)`);
    await database.db.execute(sql`INSERT INTO identities (workspace_id, kind, value, customer_id)
      SELECT ${workspaceId}, 'email', 'listener-' || x.v || '@example.com', x.v::uuid
      FROM jsonb_array_elements_text(${JSON.stringify(slice)}::jsonb) AS x(v)`);
  }
  return ids;
}

/** From the first request to the last delivery the sandbox accepted: Gate, ledger, jobs and provider. */
async function sendRun(database: Database, customers: string[]): Promise<number> {
  const ws = (
    await rows<{ id: string }>(database.db, sql`SELECT workspace_id::text AS id FROM customers LIMIT 1`)
  )[0]?.id;
  if (!ws) throw new Error("no customers");
  const logger = pino({ level: "silent" });
  const worker = createWorker({ database, tasks: allTasks, queues: queueConcurrency, logger, pollMs: 50 });
  await worker.start();
  const t0 = performance.now();
  const chunks: string[][] = [];
  for (let i = 0; i < customers.length; i += CHUNK) chunks.push(customers.slice(i, i + CHUNK));
  await pool(chunks, SENDERS, async (chunk) => {
    const out = await sendMany(
      database.db,
      ws,
      chunk.map((customerId) => ({
        customerId,
        topic: "service-status",
        content: {
          subject: "We are back",
          text: "Hi {{ customer.traits.first_name }}, the service is back.",
        },
        idempotencyKey: `bench-${customerId}`,
        source: "bench",
      })),
      { publicUrl: "https://rapport.example" },
    );
    const refused = out.find((o) => "error" in o);
    if (refused && "error" in refused) throw refused.error;
  });
  for (;;) {
    const [r] = await rows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${ws} AND state = 'delivered'`,
    );
    if ((r?.n ?? 0) >= customers.length) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const secs = (performance.now() - t0) / 1000;
  await worker.stop({ timeoutMs: 5000 });
  return customers.length / secs;
}

/** The reference: the same ledger rows written straight into the deliveries table. */
async function rawInsertRun(
  database: Database,
  backend: Backend,
  url: string,
  customers: string[],
): Promise<number> {
  const ws = await createWorkspace(database.db, { name: "Bench raw", slug: "bench-send-raw" });
  const topic = uuidv7();
  const content = JSON.stringify({ subject: "We are back", text: "Hi Listener, the service is back." });
  const text = (n: number) =>
    `INSERT INTO deliveries (workspace_id, id, customer_id, channel, topic_id, kind, address, content, request,
      idempotency_key, request_hash, state, gate, source) VALUES ${Array.from(
        { length: n },
        (_, r) =>
          `($1, $${r * 4 + 3}, $${r * 4 + 4}, 'email', $2, 'transactional', $${r * 4 + 5}, '${content}'::jsonb,
           '{"topic":"service-status"}'::jsonb, $${r * 4 + 6}, 'h', 'delivered', '{"action":"send"}'::jsonb, 'bench')`,
      ).join(", ")}`;
  const chunks: string[][] = [];
  for (let i = 0; i < customers.length; i += CHUNK) chunks.push(customers.slice(i, i + CHUNK));
  const params = (chunk: string[]) => [
    ws.id,
    topic,
    ...chunk.flatMap((c) => [uuidv7(), c, `listener-${c}@example.com`, `raw-${c}`]),
  ];
  const t0 = performance.now();
  if (backend === "pglite") {
    const client = database.pglite;
    if (!client) throw new Error("no PGlite client");
    for (const c of chunks) await client.query(text(c.length), params(c));
  } else {
    const p = new pg.Pool({ connectionString: url, max: SENDERS });
    await pool(chunks, SENDERS, async (c) => {
      await p.query(text(c.length), params(c));
    });
    await p.end();
  }
  return customers.length / ((performance.now() - t0) / 1000);
}

/** `send`: a broadcast to N customers through Gate + ledger + jobs + sandbox provider, beside a raw INSERT of the rows. */
export async function benchSend(args: BenchArgs, backend: Backend): Promise<Figure[]> {
  const n = args.size ?? 100_000;
  const { database, cleanup } = await freshDatabase(backend, args.databaseUrl);
  try {
    const ws = await createWorkspace(database.db, { name: "Bench send", slug: "bench-send" });
    await getMessagingSettings(database.db, ws.id);
    const customers = await seedCustomers(database, ws.id, n);
    const perSec = await sendRun(database, customers);
    const raw = await rawInsertRun(database, backend, args.databaseUrl, customers);
    console.log(
      `send on ${backend}: ${n} messages through the Gate, the ledger and the sandbox provider at ${Math.round(perSec)} messages/s; raw INSERT of the ledger rows ${Math.round(raw)} rows/s`,
    );
    return [
      { figure: `send ${backend}`, value: perSec, unit: "messages/s", reference: raw, refUnit: "rows/s" },
    ];
  } finally {
    await cleanup();
  }
}
