// Publishes on the realtime bus from its own process, for the cross-process bus test (the name
// starts with job- because test/support/job-*.ts are the runtime's child-process scripts).
//
//   node --import tsx test/support/job-bus-publisher.ts --url URL --topic T --count N
//
// It publishes N messages {n} with bus.publish, then one {n: N} through publishInTransaction,
// prints {"event":"published"} and exits.
import { parseArgs } from "node:util";
import { z } from "zod";
import { openDatabase } from "../../src/db/client.ts";
import { createBus, publishInTransaction } from "../../src/realtime/bus.ts";

const Args = z.object({
  url: z.string().min(1),
  topic: z.string().min(1),
  count: z.coerce.number().int().min(0),
});
const args = Args.parse(
  parseArgs({ options: { url: { type: "string" }, topic: { type: "string" }, count: { type: "string" } } })
    .values,
);

const database = await openDatabase({ kind: "postgres", url: args.url, poolSize: 2 });
const bus = await createBus(database, "postgres");
for (let n = 0; n < args.count; n++) await bus.publish(args.topic, { n, pid: process.pid });
await database.db.transaction(async (tx) => {
  await publishInTransaction(tx, args.topic, { n: args.count, pid: process.pid });
});
await bus.close();
await database.close();
process.stdout.write(`${JSON.stringify({ event: "published" })}\n`);
