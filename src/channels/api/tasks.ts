import { DEFAULT_DELIVER_OPTIONS, DeliverOptions } from "../../delivery/webhooks/deliver.ts";
import { type AnyTask, defineTask, type Task } from "../../jobs/index.ts";
import { deliverApiReply } from "./deliver.ts";
import { API_REPLY_JOB_MAX_RUNS, API_REPLY_QUEUE, API_REPLY_TASK, ApiReplyJob } from "./fate.ts";

/**
 * The task that makes one attempt to post an agent's reply to its API inbox's webhook, with
 * the outbound webhooks' schedule (5 s … 24 h over about 3.6 days); options are given here
 * so a test's worker runs the real handler with short waits.
 */
export function createApiReplyTask(options: Partial<DeliverOptions> = {}): Task<ApiReplyJob> {
  const resolved = DeliverOptions.parse({ ...DEFAULT_DELIVER_OPTIONS, ...options });
  return defineTask({
    name: API_REPLY_TASK,
    queue: API_REPLY_QUEUE,
    schema: ApiReplyJob,
    maxAttempts: API_REPLY_JOB_MAX_RUNS,
    // only Rapport's own failures (the database) land here; the receiver's become new attempts
    backoff: { baseMs: 5_000, maxMs: 5 * 60_000, jitter: "equal" },
    handler: async (payload, job) => {
      await deliverApiReply(job.db, payload, { signal: job.signal, logger: job.logger }, resolved);
    },
  });
}

/** The API channel's background tasks (agent replies posted to the source's webhook). */
export const apiChannelTasks: AnyTask[] = [createApiReplyTask()];
