import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { z } from "zod";
import { AppError } from "../errors.ts";

/** The one NOTIFY channel of the bus; the topic travels inside the payload. */
export const BUS_CHANNEL = "rapport_bus";

/**
 * PostgreSQL drops nothing silently but refuses NOTIFY payloads of 8000 bytes or more; we keep
 * a margin and refuse earlier with a message that says what to do. Both backends apply it, so
 * code that works embedded keeps working on PostgreSQL.
 */
export const MAX_ENVELOPE_BYTES = 7900;

export const Envelope = z.object({ topic: z.string().min(1).max(200), message: z.unknown() });
export type Envelope = z.infer<typeof Envelope>;

export type MessageHandler = (message: unknown) => void;

/** Serializes a message for the bus; throws a clear AppError when it cannot travel. */
export function encodeEnvelope(topic: string, message: unknown): string {
  if (!Envelope.shape.topic.safeParse(topic).success) {
    throw new AppError("realtime.invalid_topic", "A topic is a non-empty string of at most 200 characters.", {
      topic,
    });
  }
  if (message === undefined) {
    throw new AppError(
      "realtime.invalid_message",
      `The message for ${topic} is undefined; send null or an object.`,
    );
  }
  let payload: string;
  try {
    payload = JSON.stringify({ topic, message });
  } catch (err) {
    throw new AppError("realtime.invalid_message", `The message for ${topic} is not JSON: ${String(err)}`);
  }
  const bytes = Buffer.byteLength(payload, "utf8");
  if (bytes > MAX_ENVELOPE_BYTES) {
    throw new AppError(
      "realtime.message_too_large",
      `The message for ${topic} is ${bytes} bytes once encoded; the bus carries at most ${MAX_ENVELOPE_BYTES}. ` +
        "Publish the id of the record and let subscribers load it.",
      { topic, bytes, limit: MAX_ENVELOPE_BYTES },
    );
  }
  return payload;
}

/** Parses a payload received on the channel; undefined for anything that is not ours. */
export function decodeEnvelope(payload: string): Envelope | undefined {
  try {
    const parsed = Envelope.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Subscriptions by topic, shared by the backends. A handler that throws is logged and does not
 * keep the message from the other handlers.
 */
export class TopicRouter {
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
    // one listener per open websocket is normal; the default warning at 10 is noise here
    this.#emitter.setMaxListeners(0);
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    const listener = (message: unknown) => {
      try {
        handler(message);
      } catch (err) {
        this.#logger?.error({ err, topic }, "a bus subscriber threw");
      }
    };
    this.#emitter.on(topic, listener);
    return () => {
      this.#emitter.off(topic, listener);
    };
  }

  dispatch(envelope: Envelope): void {
    this.#emitter.emit(envelope.topic, envelope.message);
  }

  /** Dispatches a raw channel payload; malformed payloads are logged and dropped. */
  dispatchPayload(payload: string): void {
    const envelope = decodeEnvelope(payload);
    if (envelope) this.dispatch(envelope);
    else this.#logger?.warn({ bytes: payload.length }, "ignored a malformed bus payload");
  }

  clear(): void {
    this.#emitter.removeAllListeners();
  }
}
