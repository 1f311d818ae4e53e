// The delivery engine's worker in its own process, for the crash test of sending.
//
//   node --import tsx test/support/delivery-worker-process.ts --url URL [--lease-ms N]
//
// Runs every task of Rapport with a short job lease and prints {"event":"ready"} once it
// polls. The test kills it with SIGKILL in the middle of a send and starts another.
import { parseArgs } from "node:util";
import pino from "pino";
import { z } from "zod";
import { openDatabase } from "../../src/db/client.ts";
import { createWorker } from "../../src/jobs/worker.ts";
import { allTasks, queueConcurrency } from "../../src/tasks.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, "lease-ms": { type: "string", default: "2000" } },
});
const args = z.object({ url: z.string().min(1), "lease-ms": z.coerce.number().int().min(200) }).parse(values);
const database = await openDatabase({ kind: "postgres", url: args.url, poolSize: 8 });
const worker = createWorker({
  database,
  tasks: allTasks,
  queues: queueConcurrency,
  logger: pino({ level: "silent" }),
  pollMs: 50,
  leaseMs: args["lease-ms"],
});
await worker.start();
process.stdout.write(`${JSON.stringify({ event: "ready" })}\n`);
process.on("SIGTERM", async () => {
  await worker.stop({ timeoutMs: 2000 });
  await database.close();
  process.exit(0);
});
