// A worker in its own process, for the crash and multi-process tests of the job runtime.
//
//   node --import tsx test/support/job-worker-process.ts (--pglite-dir DIR | --url URL)
//     --queue Q --mode block|probe [--probe-table T] [--lease-ms N] [--concurrency N]
//
// It prints one JSON line per event on stdout: {"event":"ready"}, then {"event":"started",
// "id":…,"attempt":…} for each job it starts. "block" handlers never finish (the test kills
// the process); "probe" handlers record their run in the probe table. SIGTERM stops the worker
// gracefully.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pino from "pino";
import { z } from "zod";
import { openDatabase } from "../../src/db/client.ts";
import { defineTask } from "../../src/jobs/task.ts";
import { createWorker } from "../../src/jobs/worker.ts";

const { values } = parseArgs({
  options: {
    "pglite-dir": { type: "string" },
    url: { type: "string" },
    queue: { type: "string" },
    mode: { type: "string" },
    "probe-table": { type: "string" },
    "lease-ms": { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1" },
  },
});

const Args = z.object({
  "pglite-dir": z.string().optional(),
  url: z.string().optional(),
  queue: z.string().min(1),
  mode: z.enum(["block", "probe"]),
  "probe-table": z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  "lease-ms": z.coerce.number().int().min(100),
  concurrency: z.coerce.number().int().min(1),
});
const args = Args.parse(values);

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const database = args.url
  ? await openDatabase({ kind: "postgres", url: args.url, poolSize: args.concurrency + 2 })
  : await openDatabase({ kind: "pglite", dataDir: args["pglite-dir"] });

const workerId = `child-${process.pid}`;
const probeTable = args["probe-table"];

const block = defineTask({
  name: "test.block",
  schema: z.object({}),
  handler: async (_payload, job) => {
    emit({ event: "started", id: job.id, attempt: job.attempt });
    // never finishes: the test kills this process while the job is held
    await new Promise(() => {});
  },
});

const probe = defineTask({
  name: "test.probe",
  schema: z.object({ n: z.number().int() }),
  handler: async (_payload, job) => {
    if (!probeTable) throw new Error("--probe-table is required in probe mode");
    const table = sql.identifier(probeTable);
    await job.db.execute(
      sql`INSERT INTO ${table} (job_id, worker, started_at) VALUES (${job.id}, ${workerId}, clock_timestamp())`,
    );
    // long enough for the other process to try for the same job while this one holds it
    await sleep(5 + Math.floor(Math.random() * 10));
    await job.db.execute(
      sql`UPDATE ${table} SET finished_at = clock_timestamp() WHERE job_id = ${job.id} AND worker = ${workerId}`,
    );
  },
});

const worker = createWorker({
  database,
  tasks: [block, probe],
  queues: { [args.queue]: args.concurrency },
  leaseMs: args["lease-ms"],
  pollMs: 50,
  logger: pino({ level: "warn" }, pino.destination(2)),
  workerId,
});
await worker.start();
emit({ event: "ready", workerId });

process.on("SIGTERM", () => {
  void (async () => {
    await worker.stop({ timeoutMs: 5_000 });
    await database.close();
    process.exit(0);
  })();
});
