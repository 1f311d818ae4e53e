import { z } from "zod";
import type { Db } from "../../db/client.ts";
import { type EnqueueSpec, enqueueMany } from "../../jobs/index.ts";

/** The task that delivers one attempt of one webhook message. */
export const DELIVER_TASK = "webhooks.deliver";
/** The queue its jobs go to unless the caller names another. */
export const WEBHOOK_QUEUE = "webhooks";
/**
 * Runs of one attempt's job. These retries are for Rapport's own trouble (the database was
 * unreachable while recording); the receiver's failures are retried as new attempts instead.
 */
export const DELIVER_JOB_MAX_RUNS = 5;

/**
 * One attempt of one message. `attempt` fences the job: it runs only while the message has
 * made `attempt - 1` attempts, so a job that runs twice (a crash after recording) sends once.
 */
export const DeliverJob = z.object({
  workspaceId: z.uuid(),
  messageId: z.string().min(1).max(100),
  attempt: z.number().int().min(1),
});
export type DeliverJob = z.infer<typeof DeliverJob>;

export type AttemptOptions = { queue?: string | undefined; delayMs?: number | undefined };

function attemptSpec(job: DeliverJob, options: AttemptOptions): EnqueueSpec {
  const delayMs = Math.max(0, Math.round(options.delayMs ?? 0));
  return {
    task: DELIVER_TASK,
    payload: DeliverJob.parse(job),
    queue: options.queue ?? WEBHOOK_QUEUE,
    workspaceId: job.workspaceId,
    maxAttempts: DELIVER_JOB_MAX_RUNS,
    dedupeKey: `webhook:${job.workspaceId}:${job.messageId}:${job.attempt}`,
    ...(delayMs > 0 ? { delayMs } : {}),
  };
}

/**
 * Enqueues attempts on `tx` (the transaction that wrote or updated their messages), after
 * `delayMs` on the database clock. The dedupe key keeps one job per attempt of a message.
 */
export async function enqueueAttempts(
  tx: Db,
  jobs: DeliverJob[],
  options: AttemptOptions = {},
): Promise<void> {
  await enqueueMany(
    tx,
    jobs.map((j) => attemptSpec(j, options)),
  );
}
