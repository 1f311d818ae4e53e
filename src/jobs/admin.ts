import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { notifyQueues } from "./sql.ts";
import { jobs } from "./tables.ts";

export type JobRow = typeof jobs.$inferSelect;
export type JobState = JobRow["state"];
export const JOB_STATES: readonly JobState[] = ["queued", "running", "failed"];

/** Jobs for an admin screen, oldest first, optionally of one state and queue. */
export async function listJobs(
  db: Db,
  filter: { state?: JobState; queue?: string; limit: number },
): Promise<JobRow[]> {
  const where: SQL[] = [];
  if (filter.state) where.push(eq(jobs.state, filter.state));
  if (filter.queue) where.push(eq(jobs.queue, filter.queue));
  return db
    .select()
    .from(jobs)
    .where(and(...where))
    .orderBy(asc(jobs.id))
    .limit(Math.min(Math.max(filter.limit, 1), 1000));
}

/** How many jobs are in each state, for dashboards and health checks. */
export async function countJobs(db: Db, filter: { queue?: string } = {}): Promise<Record<JobState, number>> {
  const counted = await db
    .select({ state: jobs.state, n: sql<number>`count(*)::int` })
    .from(jobs)
    .where(filter.queue ? eq(jobs.queue, filter.queue) : undefined)
    .groupBy(jobs.state);
  const out: Record<JobState, number> = { queued: 0, running: 0, failed: 0 };
  for (const row of counted) out[row.state] = Number(row.n);
  return out;
}

/**
 * Puts a failed job back in its queue with a fresh set of attempts (after fixing what made it
 * fail). False when no failed job has this id; a `jobs.dedupe_conflict` error when a newer job
 * with the same dedupe key is waiting, since both would do the same work.
 */
export async function retryJob(db: Db, id: number): Promise<boolean> {
  const retried = await db
    .update(jobs)
    .set({
      state: "queued",
      attempts: 0,
      runAt: sql`now()`,
      lockedBy: null,
      lockedUntil: null,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(jobs.id, id),
        eq(jobs.state, "failed"),
        sql`NOT EXISTS (SELECT 1 FROM jobs AS o WHERE o.dedupe_key = jobs.dedupe_key AND o.state <> 'failed')`,
      ),
    )
    .returning({ queue: jobs.queue });
  if (retried.length > 0) {
    await notifyQueues(
      db,
      retried.map((r) => r.queue),
    );
    return true;
  }
  const [failed] = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.id, id), eq(jobs.state, "failed")));
  if (failed) {
    throw new AppError(
      "jobs.dedupe_conflict",
      `Job ${id} was not retried: a job with its dedupe key is waiting.`,
      {
        id,
      },
    );
  }
  return false;
}
