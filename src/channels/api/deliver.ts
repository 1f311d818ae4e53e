import { isIP } from "node:net";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { getInbox } from "../../conversations/inboxes.ts";
import { type Db, rows } from "../../db/client.ts";
import {
  type AttemptOutcome,
  DEFAULT_DELIVER_OPTIONS,
  type DeliverOptions,
  decideOutcome,
} from "../../delivery/webhooks/deliver.ts";
import { type PostResult, postWebhook } from "../../delivery/webhooks/post.ts";
import { webhookHeaders } from "../../delivery/webhooks/sign.ts";
import { checkDestination } from "../../delivery/webhooks/ssrf.ts";
import { isAppError } from "../../errors.ts";
import { getAudiences } from "../../profiles/customers.ts";
import { parseApiInboxConfig } from "./config.ts";
import { type ApiReplyJob, ReplyWebhook, recordFate } from "./fate.ts";

type Loaded = {
  text: string;
  html: string | null;
  authorId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  inboxId: string;
  conversationId: string;
  customerId: string;
  threadKey: string | null;
  inReplyTo: string | null;
};

async function load(db: Db, job: ApiReplyJob): Promise<Loaded | undefined> {
  const [row] = await rows<Loaded>(
    db,
    sql`SELECT m.text, m.html, m.author_id::text AS "authorId", m.metadata, to_json(m.created_at)#>>'{}' AS "createdAt",
          m.inbox_id::text AS "inboxId", m.conversation_id::text AS "conversationId",
          c.customer_id::text AS "customerId", c.thread_key AS "threadKey",
          (SELECT i.provider_message_id FROM conversation_messages i
            WHERE i.workspace_id = m.workspace_id AND i.conversation_id = m.conversation_id
              AND i.direction = 'inbound' AND i.created_at <= m.created_at
            ORDER BY i.created_at DESC, i.id DESC LIMIT 1) AS "inReplyTo"
        FROM conversation_messages m
        JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        WHERE m.workspace_id = ${job.workspaceId} AND m.id = ${job.messageId}`,
  );
  return row;
}

/**
 * The webhook's body: the reply, its conversation and thread (the `threadKey` and message id
 * the source posted), and the customer's ids the source knows them by. Keys in a fixed order:
 * jsonb keeps none, and the body signed must be the body sent.
 */
async function payloadOf(db: Db, job: ApiReplyJob, m: Loaded): Promise<string> {
  const audience = (await getAudiences(db, job.workspaceId, [m.customerId])).get(m.customerId);
  const first = (kind: string) => audience?.identities.find((i) => i.kind === kind)?.value ?? null;
  return JSON.stringify({
    type: "message.created",
    timestamp: m.createdAt,
    data: {
      messageId: job.messageId,
      conversationId: m.conversationId,
      inboxId: m.inboxId,
      direction: "outbound",
      threadKey: m.threadKey,
      inReplyTo: m.inReplyTo,
      customer: {
        id: audience?.id ?? m.customerId,
        userId: first("user_id"),
        email: first("email"),
        phone: first("phone"),
      },
      authorId: m.authorId,
      text: m.text,
      html: m.html,
      createdAt: m.createdAt,
    },
  });
}

/** What the job knows that an attempt needs: its signal and logger. */
export type ReplyAttemptContext = { signal?: AbortSignal; logger?: Pick<Logger, "info" | "warn"> };

/**
 * Makes attempt `job.attempt` of posting an agent's reply to its API inbox's webhook: checks
 * the URL's addresses again (DNS may have moved inside), POSTs the reply signed per Standard
 * Webhooks (`webhook-id` = the message id, the same on every retry), and records the outcome
 * on the message with the next attempt in one transaction. Undefined when there was nothing to
 * do (already made, or the reply is gone).
 */
export async function deliverApiReply(
  db: Db,
  job: ApiReplyJob,
  ctx: ReplyAttemptContext = {},
  options: DeliverOptions = DEFAULT_DELIVER_OPTIONS,
): Promise<AttemptOutcome | undefined> {
  const m = await load(db, job);
  const known = ReplyWebhook.safeParse(m?.metadata.webhook);
  if (!m || !known.success || known.data.state !== "pending" || known.data.attempts !== job.attempt - 1) {
    return undefined;
  }
  const inbox = await getInbox(db, job.workspaceId, m.inboxId).catch((err: unknown) => {
    if (isAppError(err, "conversations.inbox_not_found")) return undefined;
    throw err;
  });
  const parsed = inbox ? parseApiInboxConfig(inbox.config) : undefined;
  const config = parsed?.ok ? parsed.config : undefined;
  if (!config?.webhookUrl || !config.webhookSecret) {
    const why = !inbox
      ? "the inbox was deleted"
      : parsed && !parsed.ok
        ? `the inbox's settings are invalid (${parsed.error})`
        : "the inbox no longer has a webhookUrl and webhookSecret";
    // not an attempt: nothing was sent
    const outcome: AttemptOutcome = { state: "failed", status: null, error: `not sent: ${why}` };
    return finish(db, job, { url: known.data.url, attempts: known.data.attempts }, outcome, ctx);
  }
  let result: PostResult;
  try {
    const destination = await checkDestination(config.webhookUrl, {
      allowPrivate: config.allowPrivate,
      resolve: options.resolve,
    });
    const body = await payloadOf(db, job, m);
    result = await postWebhook(destination, {
      headers: webhookHeaders(config.webhookSecret, job.messageId, body),
      body,
      timeoutMs: options.timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (err) {
    if (!isAppError(err)) throw err;
    const error = `not sent: ${err.message}`;
    // a malformed URL, or an internal address written as an IP, never changes: retrying cannot help
    if (
      err.code === "webhooks.invalid_url" ||
      (err.code === "webhooks.url_forbidden" && isIpHost(config.webhookUrl))
    ) {
      const outcome: AttemptOutcome = { state: "failed", status: null, error };
      return finish(db, job, { url: config.webhookUrl, attempts: job.attempt }, outcome, ctx);
    }
    // a host name that resolves inside (or not at all) may be fixed in DNS: retried like any failure
    result = { kind: "error", error };
  }
  if (ctx.signal?.aborted) throw new Error("the reply's webhook was interrupted; the job was handed back");
  // 410 Gone stops this reply only: an inbox is not an endpoint to disable, its next replies still go
  const outcome: AttemptOutcome =
    result.kind === "response" && result.status === 410
      ? { state: "failed", status: 410, error: "HTTP 410: the receiver answered Gone; not retried" }
      : decideOutcome(result, job.attempt, options);
  return finish(db, job, { url: config.webhookUrl, attempts: job.attempt }, outcome, ctx);
}

function isIpHost(url: string): boolean {
  try {
    return isIP(new URL(url).hostname.replace(/^\[|\]$/g, "")) !== 0;
  } catch {
    return false;
  }
}

/** Records an attempt's outcome (and the next attempt, when there is one) on the reply. */
async function finish(
  db: Db,
  job: ApiReplyJob,
  made: { url: string | null; attempts: number },
  outcome: AttemptOutcome,
  ctx: ReplyAttemptContext,
): Promise<AttemptOutcome | undefined> {
  const now = Date.now();
  const fate: ReplyWebhook = {
    state: outcome.state,
    attempts: made.attempts,
    url: made.url,
    lastStatus: outcome.status,
    lastError: outcome.error,
    nextAttemptAt:
      outcome.state === "pending" ? new Date(now + (outcome.retryInMs ?? 0)).toISOString() : null,
    updatedAt: new Date(now).toISOString(),
  };
  const recorded = await db.transaction((tx) =>
    recordFate(
      tx,
      job.workspaceId,
      job.messageId,
      fate,
      { attempts: job.attempt - 1 },
      outcome.state === "pending"
        ? { job: { ...job, attempt: job.attempt + 1 }, delayMs: outcome.retryInMs ?? 0 }
        : undefined,
    ),
  );
  ctx.logger?.[outcome.state === "pending" ? "warn" : "info"](
    {
      messageId: job.messageId,
      attempt: job.attempt,
      state: outcome.state,
      status: outcome.status,
      recorded,
    },
    outcome.error ? `API channel reply webhook failed: ${outcome.error}` : "API channel reply delivered",
  );
  return recorded ? outcome : undefined;
}
