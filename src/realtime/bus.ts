import { type SQL, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database, Db } from "../db/client.ts";
import { BUS_CHANNEL, encodeEnvelope, type MessageHandler } from "./envelope.ts";
import { createInProcessBus } from "./in-process-bus.ts";
import { createPostgresBus } from "./postgres-bus.ts";

/**
 * Publish/subscribe by topic (`ws:<workspaceId>:conversations`). Delivery is at most once and
 * only to subscribers present at the time: a bus tells live screens that something changed,
 * the database stays the record.
 */
export interface Bus {
  /** Sends a JSON-serializable message of at most ~7.9 KB once encoded (else rejects). */
  publish(topic: string, message: unknown): Promise<void>;
  subscribe(topic: string, handler: MessageHandler): () => void;
  close(): Promise<void>;
}

/**
 * "in-process": an EventEmitter, for the embedded single-process mode (publishing costs no
 * query). "postgres": LISTEN/NOTIFY on one channel, for several processes.
 */
export type BusMode = "in-process" | "postgres";

export type BusOptions = { logger?: Logger };

/**
 * Opens the bus of the given mode (by default in-process on PGlite, LISTEN/NOTIFY on
 * PostgreSQL). Both also receive what `publishInTransaction` sends through the database.
 */
export async function createBus(database: Database, mode?: BusMode, options: BusOptions = {}): Promise<Bus> {
  const chosen = mode ?? (database.kind === "postgres" ? "postgres" : "in-process");
  return chosen === "postgres"
    ? createPostgresBus(database, options)
    : createInProcessBus({ database, ...options });
}

/**
 * The `pg_notify(...)` expression that publishes `message` on `topic`, for a statement that
 * does more than publish (a row written and its news told in one round trip). Heard only if
 * and when the transaction commits, as with `publishInTransaction`.
 */
export function notifyExpression(topic: string, message: unknown): SQL {
  return sql`pg_notify(${BUS_CHANNEL}, ${encodeEnvelope(topic, message)})`;
}

/**
 * Publishes from inside the caller's transaction with pg_notify: subscribers hear it only if
 * and when the transaction commits, so no screen shows a change that was rolled back.
 */
export async function publishInTransaction(db: Db, topic: string, message: unknown): Promise<void> {
  const payload = encodeEnvelope(topic, message);
  await db.execute(sql`SELECT pg_notify(${BUS_CHANNEL}, ${payload})`);
}
