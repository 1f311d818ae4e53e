import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import type { Bus } from "./bus.ts";
import { BUS_CHANNEL, encodeEnvelope, TopicRouter } from "./envelope.ts";

/**
 * The bus across processes: every message is a NOTIFY on one channel carrying `{topic,
 * message}`; each process LISTENs once and routes by topic locally, so subscriptions cost no
 * query. It is listening when the promise resolves, so nothing published after is missed.
 */
export async function createPostgresBus(database: Database, options: { logger?: Logger } = {}): Promise<Bus> {
  const router = new TopicRouter(options.logger);
  const unlisten = await database.listen(BUS_CHANNEL, (payload) => router.dispatchPayload(payload));
  let closed = false;
  return {
    async publish(topic, message) {
      if (closed) throw new Error("the bus is closed");
      const payload = encodeEnvelope(topic, message);
      await database.db.execute(sql`SELECT pg_notify(${BUS_CHANNEL}, ${payload})`);
    },
    subscribe(topic, handler) {
      return router.subscribe(topic, handler);
    },
    async close() {
      closed = true;
      router.clear();
      await unlisten();
    },
  };
}
