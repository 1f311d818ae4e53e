import { sql } from "drizzle-orm";
import type { PgInsertValue } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { msInterval, notifyQueues } from "./sql.ts";
import { jobs } from "./tables.ts";
import type { AnyTask } from "./task.ts";

/** The options of a job besides its task and payload, checked at the boundary. */
export const JobOptions = z
  .object({
    queue: z.string().min(1).max(100).optional(),
    runAt: z.date().optional(),
    delayMs: z.number().int().min(0).optional(),
    dedupeKey: z.string().min(1).max(500).optional(),
    maxAttempts: z.number().int().min(1).max(1000).optional(),
    /** Lower runs first; the default is 0. */
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    workspaceId: z.uuid().optional(),
  })
  .refine((o) => o.runAt === undefined || o.delayMs === undefined, "give runAt or delayMs, not both");
export type JobOptions = z.infer<typeof JobOptions>;

/**
 * A job to enqueue. `task` is a task name, or the task itself: then the payload is typed and
 * checked by the task's schema now, and the task's queue and maxAttempts are the defaults.
 */
export type EnqueueSpec<P = unknown> = JobOptions & {
  task: string | TaskRef<P>;
  payload: NoInfer<P>;
};

/** What enqueue needs of a task (its handler is not needed, which keeps this covariant in P). */
export type TaskRef<P> = AnyTask & { schema: z.ZodType<P> };

type Row = PgInsertValue<typeof jobs>;

function toRow<P>(spec: EnqueueSpec<P>): Row {
  const parsed = JobOptions.safeParse(spec);
  if (!parsed.success) {
    throw new AppError("jobs.invalid_spec", `Invalid job: ${z.prettifyError(parsed.error)}`);
  }
  const o = parsed.data;
  const task = typeof spec.task === "string" ? undefined : spec.task;
  const taskName = typeof spec.task === "string" ? spec.task : spec.task.name;
  if (!taskName) throw new AppError("jobs.invalid_spec", "Invalid job: the task name is empty");
  if (spec.payload === undefined) {
    throw new AppError("jobs.invalid_spec", `Invalid job for ${taskName}: the payload is missing (use {})`);
  }
  if (task) {
    const check = task.schema.safeParse(spec.payload);
    if (!check.success) {
      throw new AppError(
        "jobs.invalid_payload",
        `Invalid payload for task ${taskName}: ${z.prettifyError(check.error)}`,
      );
    }
  }
  const maxAttempts = o.maxAttempts ?? task?.maxAttempts;
  return {
    task: taskName,
    queue: o.queue ?? task?.queue ?? "default",
    payload: spec.payload,
    ...(o.runAt ? { runAt: o.runAt } : {}),
    ...(o.delayMs ? { runAt: sql`now() + ${msInterval(o.delayMs)}` } : {}),
    ...(o.dedupeKey ? { dedupeKey: o.dedupeKey } : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(o.priority ? { priority: o.priority } : {}),
    ...(o.workspaceId ? { workspaceId: o.workspaceId } : {}),
  };
}

async function insert(db: Db, values: Row[]): Promise<number[]> {
  if (values.length === 0) return [];
  const inserted = await db
    .insert(jobs)
    .values(values)
    // the predicate repeats the partial index's, so PostgreSQL can infer it as the arbiter
    .onConflictDoNothing({ target: jobs.dedupeKey, where: sql`dedupe_key IS NOT NULL AND state <> 'failed'` })
    .returning({ id: jobs.id, queue: jobs.queue });
  // NOTIFY is transactional: idle workers wake when the caller commits, never before
  await notifyQueues(
    db,
    inserted.map((r) => r.queue),
  );
  return inserted.map((r) => r.id);
}

/**
 * Enqueues one job on `db`, which may be the caller's transaction: then the job exists only
 * if that transaction commits. Returns the job id, or null when a job with the same dedupe
 * key is already queued or running.
 */
export async function enqueue<P>(db: Db, spec: EnqueueSpec<P>): Promise<number | null> {
  const [id] = await insert(db, [toRow(spec)]);
  return id ?? null;
}

/**
 * Enqueues many jobs in one statement (same transaction rules as `enqueue`). Returns the ids
 * of the jobs created; a job whose dedupe key is taken is skipped.
 */
export async function enqueueMany(db: Db, specs: EnqueueSpec[]): Promise<number[]> {
  return insert(db, specs.map(toRow));
}
