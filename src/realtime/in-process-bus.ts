import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import type { Bus } from "./bus.ts";
import { BUS_CHANNEL, decodeEnvelope, encodeEnvelope, TopicRouter } from "./envelope.ts";

/**
 * The bus of the embedded mode: messages go through an EventEmitter in this process. With a
 * database it also listens on the bus channel, so `publishInTransaction` reaches it at commit.
 */
export async function createInProcessBus(
  options: { database?: Database; logger?: Logger } = {},
): Promise<Bus> {
  const router = new TopicRouter(options.logger);
  const unlisten = options.database
    ? await options.database.listen(BUS_CHANNEL, (payload) => router.dispatchPayload(payload))
    : undefined;
  let closed = false;
  return {
    async publish(topic, message) {
      if (closed) throw new Error("the bus is closed");
      // encoding and decoding gives subscribers their own copy and the same limits as PostgreSQL
      const envelope = decodeEnvelope(encodeEnvelope(topic, message));
      if (!envelope) throw new Error("a bus message did not survive encoding");
      // delivered on a later turn, as over the network: a publisher never runs handlers inline
      setImmediate(() => router.dispatch(envelope));
    },
    subscribe(topic, handler) {
      return router.subscribe(topic, handler);
    },
    async close() {
      closed = true;
      router.clear();
      await unlisten?.();
    },
  };
}
