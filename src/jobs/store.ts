import { randomBytes } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, preparedRows, rows } from "../db/client.ts";
import { msInterval, toId } from "./sql.ts";

// The statements a worker runs on the jobs table, apart from the loop that drives them, so
// the claim protocol can be tested on its own. Every statement after the claim is fenced by
// the claim's lock token: a worker whose lease expired and whose job was claimed again can
// no longer finish, fail or extend it.

/** A job as a worker holds it after a claim. */
export const ClaimedJob = z.object({
  id: z.union([z.string(), z.number()]).transform(toId),
  task: z.string(),
  queue: z.string(),
  payload: z.unknown(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  workspaceId: z.string().nullable(),
  lastError: z.string().nullable(),
  lockToken: z.string(),
});
export type ClaimedJob = z.infer<typeof ClaimedJob>;

/** A fresh lock token: the worker id (for people reading the table) and a random part. */
export function newLockToken(workerId: string): string {
  return `${workerId}/${randomBytes(6).toString("hex")}`;
}

function list(values: string[]): SQL {
  return sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
}

function held(jobs: ReadonlyArray<{ id: number; lockToken: string }>): SQL {
  return sql.join(
    jobs.map((j) => sql`(${j.id}::bigint, ${j.lockToken}::text)`),
    sql`, `,
  );
}

export type ClaimOptions = {
  queue: string;
  /** Only jobs of these tasks are claimed; others wait for a worker that knows them. */
  tasks: string[];
  limit: number;
  leaseMs: number;
  lockToken: string;
};

/**
 * Claims up to `limit` ready jobs of one queue: queued jobs that are due, and running jobs
 * whose lease expired (their worker died) while attempts remain. SKIP LOCKED lets concurrent
 * workers claim disjoint jobs without waiting for each other.
 */
export async function claimJobs(db: Db, o: ClaimOptions): Promise<ClaimedJob[]> {
  if (o.limit <= 0 || o.tasks.length === 0) return [];
  // every worker polls with it: planned once per connection
  const claimed = await preparedRows<Record<string, unknown>>(
    db,
    sql`WITH next AS (
      SELECT id FROM jobs
      WHERE queue = ${o.queue} AND task IN (${list(o.tasks)})
        AND ((state = 'queued' AND run_at <= now())
          OR (state = 'running' AND locked_until < now() AND attempts < max_attempts))
      ORDER BY priority, run_at, id
      LIMIT ${o.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs AS j SET
      state = 'running',
      attempts = j.attempts + 1,
      locked_by = ${o.lockToken},
      locked_until = now() + ${msInterval(o.leaseMs)},
      last_error = CASE WHEN j.state = 'running'
        THEN 'lease expired: worker ' || coalesce(j.locked_by, '?') || ' stopped before finishing'
        ELSE j.last_error END,
      updated_at = now()
    FROM next WHERE j.id = next.id
    RETURNING j.id::text AS id, j.task, j.queue, j.payload, j.attempts, j.max_attempts AS "maxAttempts",
      j.workspace_id::text AS "workspaceId", j.last_error AS "lastError", j.locked_by AS "lockToken"`,
  );
  return claimed.map((r) => ClaimedJob.parse(r));
}

/** Deletes a finished job. False when this claim no longer holds it (the lease was lost). */
export async function completeJob(db: Db, job: { id: number; lockToken: string }): Promise<boolean> {
  const done = await rows<{ id: string }>(
    db,
    sql`DELETE FROM jobs WHERE id = ${job.id} AND locked_by = ${job.lockToken} AND state = 'running'
      RETURNING id::text AS id`,
  );
  return done.length === 1;
}

export type FailOptions = { error: string; delayMs: number; permanent: boolean };

/**
 * Records a failed attempt: back to queued after `delayMs` on the database clock, or `failed`
 * for good when attempts are used up or the failure is permanent. Null when the lease was lost.
 */
export async function failJob(
  db: Db,
  job: { id: number; lockToken: string },
  o: FailOptions,
): Promise<"queued" | "failed" | null> {
  const out = await rows<{ state: string }>(
    db,
    sql`UPDATE jobs SET
      state = CASE WHEN ${o.permanent}::boolean OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
      run_at = CASE WHEN ${o.permanent}::boolean OR attempts >= max_attempts THEN run_at
        ELSE now() + ${msInterval(o.delayMs)} END,
      last_error = ${o.error}, locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE id = ${job.id} AND locked_by = ${job.lockToken} AND state = 'running'
    RETURNING state`,
  );
  const state = out[0]?.state;
  if (state === undefined) return null;
  if (state !== "queued" && state !== "failed") throw new Error(`unexpected job state ${state}`);
  return state;
}

/**
 * Hands held jobs back to the queue at once (graceful shutdown): the interrupted attempt is
 * not counted. Returns the ids released and their queues, to wake other workers.
 */
export async function releaseJobs(
  db: Db,
  jobs: ReadonlyArray<{ id: number; lockToken: string }>,
  reason: string,
): Promise<Array<{ id: number; queue: string }>> {
  if (jobs.length === 0) return [];
  const out = await rows<{ id: string; queue: string }>(
    db,
    sql`UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL,
      locked_until = NULL, last_error = ${reason}, updated_at = now()
    WHERE state = 'running' AND (id, locked_by) IN (${held(jobs)})
    RETURNING id::text AS id, queue`,
  );
  return out.map((r) => ({ id: toId(r.id), queue: r.queue }));
}

/** Extends the leases of held jobs (the heartbeat). Returns the ids still held. */
export async function extendLeases(
  db: Db,
  jobs: ReadonlyArray<{ id: number; lockToken: string }>,
  leaseMs: number,
): Promise<Set<number>> {
  if (jobs.length === 0) return new Set();
  const out = await rows<{ id: string }>(
    db,
    sql`UPDATE jobs SET locked_until = now() + ${msInterval(leaseMs)}
    WHERE state = 'running' AND (id, locked_by) IN (${held(jobs)})
    RETURNING id::text AS id`,
  );
  return new Set(out.map((r) => toId(r.id)));
}

/**
 * Fails running jobs whose lease expired on their last attempt: a job that keeps killing its
 * worker must not be retried forever. Returns how many were failed.
 */
export async function reapExpiredJobs(db: Db, queues: string[]): Promise<number> {
  if (queues.length === 0) return 0;
  const out = await rows<{ id: string }>(
    db,
    sql`UPDATE jobs SET state = 'failed',
      last_error = 'lease expired on the last attempt: worker ' || coalesce(locked_by, '?') || ' stopped before finishing',
      locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE queue IN (${list(queues)}) AND state = 'running' AND locked_until < now() AND attempts >= max_attempts
    RETURNING id::text AS id`,
  );
  return out.length;
}
