import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { parseApiInboxConfig } from "./config.ts";
import { type ReplyWebhook, recordFate } from "./fate.ts";

/**
 * Queues an agent's reply on an API inbox for the source's own webhook, in the reply's
 * transaction (the reply and its first attempt commit together). A reply that cannot be
 * posted (no URL or no secret set) is marked failed at once, saying why, so the agent knows
 * it never left.
 */
export async function queueApiChannelReply(
  tx: Db,
  workspaceId: string,
  inbox: Inbox,
  reply: {
    conversationId: string;
    messageId: string;
    customerId: string;
    authorId: string | null;
    text: string;
    html: string | null;
  },
): Promise<void> {
  const now = new Date().toISOString();
  const parsed = parseApiInboxConfig(inbox.config);
  const problem = !parsed.ok
    ? `the inbox's settings are invalid (${parsed.error})`
    : parsed.config.webhookUrl === undefined
      ? "the inbox has no webhookUrl to post replies to"
      : parsed.config.webhookSecret === undefined
        ? "the inbox has no webhookSecret to sign replies with"
        : undefined;
  const fate: ReplyWebhook = {
    state: problem ? "failed" : "pending",
    attempts: 0,
    url: parsed.ok ? (parsed.config.webhookUrl ?? null) : null,
    lastStatus: null,
    lastError: problem ? `not sent: ${problem}` : null,
    nextAttemptAt: problem ? null : now,
    updatedAt: now,
  };
  await recordFate(
    tx,
    workspaceId,
    reply.messageId,
    fate,
    undefined,
    problem ? undefined : { job: { workspaceId, messageId: reply.messageId, attempt: 1 }, delayMs: 0 },
  );
}
