import type { Db } from "./client.ts";

// deadlock, serialization failure, and a unique violation lost to a concurrent writer
const RETRYABLE = new Set(["40P01", "40001", "23505"]);

/** The database's own error behind `err` (drivers and drizzle wrap it as a `cause`), if any. */
function databaseError(err: unknown): { code: string; constraint?: unknown } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") {
      return e as { code: string; constraint?: unknown };
    }
    e = typeof e === "object" && e !== null && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/** True when `err` is a unique violation, of `constraint` if one is named. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = databaseError(err);
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}

/** True when the error is one a fresh attempt of the same transaction can get past. */
export function isRetryableDbError(err: unknown): boolean {
  const code = databaseError(err)?.code;
  return code !== undefined && RETRYABLE.has(code);
}

/**
 * Runs `fn` in a transaction, again (up to `attempts` times, with a short random pause) when
 * it loses a deadlock or a unique-key race to a concurrent transaction.
 */
export async function transactionWithRetry<T>(db: Db, fn: (tx: Db) => Promise<T>, attempts = 6): Promise<T> {
  return withRetry(() => db.transaction(fn), attempts);
}

/** Runs `fn` (one autocommitted statement, or a whole transaction) again when it loses such a race. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isRetryableDbError(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** i));
    }
  }
}
