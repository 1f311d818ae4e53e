import { sql } from "drizzle-orm";
import { z } from "zod";
import { conversationsTopic } from "../../conversations/inbound.ts";
import { type Db, rows } from "../../db/client.ts";
import { type EnqueueSpec, enqueue } from "../../jobs/index.ts";
import { publishInTransaction } from "../../realtime/bus.ts";

/** The task that makes one attempt to post an agent's reply to an API inbox's webhook. */
export const API_REPLY_TASK = "api_channel.deliver";
/** Replies share the outbound webhooks' queue: the same receivers' kind of work. */
export const API_REPLY_QUEUE = "webhooks";
/** Runs of one attempt's job: retries for Rapport's own trouble; the receiver's become attempts. */
export const API_REPLY_JOB_MAX_RUNS = 5;

/** One attempt of one reply; `attempt` fences it (it runs while the reply has made attempt − 1). */
export const ApiReplyJob = z.object({
  workspaceId: z.uuid(),
  messageId: z.uuid(),
  attempt: z.number().int().min(1),
});
export type ApiReplyJob = z.infer<typeof ApiReplyJob>;

/**
 * What became of a reply's webhook, kept on the message (`metadata.webhook`) so agents see
 * it beside the reply: pending (with the next attempt's time), succeeded, or failed and why.
 */
export const ReplyWebhook = z.object({
  state: z.enum(["pending", "succeeded", "failed"]),
  attempts: z.number().int().min(0),
  url: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  updatedAt: z.string(),
});
export type ReplyWebhook = z.infer<typeof ReplyWebhook>;

/** The job of one attempt, `delayMs` after now on the database clock. */
export function attemptSpec(job: ApiReplyJob, delayMs = 0): EnqueueSpec {
  const delay = Math.max(0, Math.round(delayMs));
  return {
    task: API_REPLY_TASK,
    payload: ApiReplyJob.parse(job),
    queue: API_REPLY_QUEUE,
    workspaceId: job.workspaceId,
    maxAttempts: API_REPLY_JOB_MAX_RUNS,
    dedupeKey: `api-reply:${job.workspaceId}:${job.messageId}:${job.attempt}`,
    ...(delay > 0 ? { delayMs: delay } : {}),
  };
}

/**
 * Writes a reply's webhook fate on `tx`, only while the reply is where `expected` says (its
 * attempts so far; undefined for the first write), then enqueues `next` in the same
 * transaction and tells agents' screens. Returns false when another run got there first.
 */
export async function recordFate(
  tx: Db,
  workspaceId: string,
  messageId: string,
  fate: ReplyWebhook,
  expected: { attempts: number } | undefined,
  next?: { job: ApiReplyJob; delayMs: number },
): Promise<boolean> {
  const fence = expected
    ? sql`AND metadata->'webhook'->>'state' = 'pending' AND (metadata->'webhook'->>'attempts')::int = ${expected.attempts}`
    : sql`AND NOT (metadata ? 'webhook')`;
  const [row] = await rows<{ conversationId: string; inboxId: string }>(
    tx,
    sql`UPDATE conversation_messages
      SET metadata = jsonb_set(metadata, '{webhook}', ${JSON.stringify(fate)}::jsonb)
      WHERE workspace_id = ${workspaceId} AND id = ${messageId} ${fence}
      RETURNING conversation_id::text AS "conversationId", inbox_id::text AS "inboxId"`,
  );
  if (!row) return false;
  if (next) await enqueue(tx, attemptSpec(next.job, next.delayMs));
  await publishInTransaction(tx, conversationsTopic(workspaceId), {
    type: "message.updated",
    conversationId: row.conversationId,
    messageId,
    inboxId: row.inboxId,
  });
  return true;
}
