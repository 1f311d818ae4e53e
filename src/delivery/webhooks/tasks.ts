import { type AnyTask, defineTask, type Task } from "../../jobs/index.ts";
import { DEFAULT_DELIVER_OPTIONS, DeliverOptions, deliverAttempt } from "./deliver.ts";
import { DELIVER_JOB_MAX_RUNS, DELIVER_TASK, DeliverJob, WEBHOOK_QUEUE } from "./job.ts";

/**
 * The task that makes one delivery attempt. Options (retry schedule, timeout, resolver) are
 * given here so a worker, a test's included, runs the real handler with its own timings.
 */
export function createDeliverTask(options: Partial<DeliverOptions> = {}): Task<DeliverJob> {
  const resolved = DeliverOptions.parse({ ...DEFAULT_DELIVER_OPTIONS, ...options });
  return defineTask({
    name: DELIVER_TASK,
    queue: WEBHOOK_QUEUE,
    schema: DeliverJob,
    maxAttempts: DELIVER_JOB_MAX_RUNS,
    // only Rapport's own failures (the database) land here; the receiver's become new attempts
    backoff: { baseMs: 5_000, maxMs: 5 * 60_000, jitter: "equal" },
    handler: async (payload, job) => {
      await deliverAttempt(
        job.db,
        payload,
        { queue: job.queue, signal: job.signal, logger: job.logger },
        resolved,
      );
    },
  });
}

/** Outbound webhook tasks, with the production timings. */
export const webhookTasks: AnyTask[] = [createDeliverTask()];
