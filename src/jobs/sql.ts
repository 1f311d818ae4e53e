import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";

/** The NOTIFY channel that wakes idle workers; the payload is the queue name. */
export const JOBS_CHANNEL = "rapport_jobs";

/** A duration in milliseconds as an SQL interval, added to the database clock (`now()`). */
export function msInterval(ms: number): SQL {
  return sql`(${ms}::float8 * interval '1 millisecond')`;
}

/** Raw results carry int8 as a string on pg and as a number on PGlite; ids fit a double. */
export function toId(value: unknown): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw new Error(`not a job id: ${String(value)}`);
  return n;
}

/** Keeps stored errors readable and bounded (a stack of a deep failure can be huge). */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** Wakes workers of these queues; inside a transaction the wake-up goes out at commit. */
export async function notifyQueues(db: Db, queues: Iterable<string>): Promise<void> {
  const distinct = [...new Set(queues)];
  if (distinct.length === 0) return;
  await db.execute(
    sql`SELECT pg_notify(${JOBS_CHANNEL}, q) FROM (VALUES ${sql.join(
      distinct.map((q) => sql`(${q}::text)`),
      sql`, `,
    )}) AS v(q)`,
  );
}
