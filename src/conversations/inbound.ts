import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { emitWebhookEvent } from "../delivery/webhooks/dispatch.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import {
  type IdentityKind,
  identifierKey,
  lookupIdentities,
  normalizeIdentifier,
} from "../profiles/identifiers.ts";
import { identify } from "../profiles/identify.ts";
import type { Traits } from "../profiles/tables.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { pickAssignee } from "./assignment.ts";
import { getInbox } from "./inboxes.ts";
import type { Attachment, ConversationSource } from "./tables.ts";

/** A customer's message as a channel received it, before it has a customer or a conversation. */
export type InboundMessage = {
  inboxId: string;
  /** The sender's identifiers (their phone, email, PSID…): resolved to one customer. */
  from: Array<{ kind: IdentityKind; value: string }>;
  /** The sender's address on this channel, where replies go (an E.164 number, an email…). */
  contactAddress?: string | undefined;
  /** What the channel says of the sender (a WhatsApp profile name…), merged into their traits. */
  traits?: Traits | undefined;
  /** The provider's id of the message: a replay is stored once. */
  providerMessageId?: string | undefined;
  text: string;
  html?: string | undefined;
  attachments?: Attachment[] | undefined;
  /** Keeps a channel's threads apart (an email thread, a post's comments). */
  threadKey?: string | undefined;
  subject?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  source?: ConversationSource | undefined;
  receivedAt?: Date | undefined;
  /** False for messages that must not reopen a conversation (auto-replies). Default true. */
  reopen?: boolean | undefined;
  /** Stored without telling anyone: no bus message, no webhook (auto-replies). Default false. */
  silent?: boolean | undefined;
  /** The customer, when the channel already knows them (a reply to an email Rapport sent them). */
  customerId?: string | undefined;
  /** "call" for a phone call's entry; "message" by default. */
  kind?: "message" | "call" | undefined;
  /** "outbound" for what the brand started (a call an agent placed): it reopens nothing. */
  direction?: "inbound" | "outbound" | undefined;
};

export type InboundResult = {
  /** The provider message id was already stored: nothing changed. */
  duplicate: boolean;
  customerId: string;
  conversationId: string;
  messageId: string;
  /** A new conversation was opened for this message. */
  opened: boolean;
};

/** The realtime topic of a workspace's conversations (agents' screens subscribe to it). */
export function conversationsTopic(workspaceId: string): string {
  return `conversations:${workspaceId}`;
}

/**
 * Takes in a customer's message from any channel: resolves the sender to one customer
 * (merging with an existing profile by email or phone), finds their conversation on this
 * inbox and thread (reopening a resolved one) or opens one, and appends the message, once
 * per provider message id. Agents hear of it on the bus, the brand's systems by webhook.
 */
export async function receiveInbound(
  db: Db,
  workspaceId: string,
  message: InboundMessage,
  opts: { defaultCountry: string },
): Promise<InboundResult> {
  message = withoutNul(message);
  const inbox = await getInbox(db, workspaceId, message.inboxId);
  if (message.from.length === 0) {
    throw new AppError(
      "conversations.invalid_sender",
      "An inbound message needs at least one sender identifier.",
    );
  }
  if (message.providerMessageId) {
    const seen = await findByProviderId(db, workspaceId, inbox.id, message.providerMessageId);
    if (seen) return { ...seen, duplicate: true, opened: false };
  }
  const at = message.receivedAt ?? new Date();
  const customerId = await senderOf(
    db,
    workspaceId,
    message,
    at,
    `inbound:${inbox.kind}`,
    opts.defaultCountry,
  );
  const threadKey = message.threadKey ?? null;
  return transactionWithRetry(db, async (tx) => {
    // one conversation per customer, inbox and thread, however many messages arrive at once
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${`conv|${workspaceId}|${inbox.id}|${customerId}|${threadKey ?? ""}`}, 0))`,
    );
    const [current] = await rows<{ id: string; status: string }>(
      tx,
      sql`SELECT id::text AS id, status FROM conversations
          WHERE workspace_id = ${workspaceId} AND inbox_id = ${inbox.id} AND customer_id = ${customerId}
            AND thread_key IS NOT DISTINCT FROM ${threadKey}
          ORDER BY last_message_at DESC LIMIT 1`,
    );
    let conversationId = current?.id;
    const opened = conversationId === undefined;
    if (conversationId === undefined) {
      conversationId = uuidv7();
      const [counter] = await rows<{ n: number }>(
        tx,
        sql`INSERT INTO conversation_counters (workspace_id, next) VALUES (${workspaceId}, 2)
            ON CONFLICT (workspace_id) DO UPDATE SET next = conversation_counters.next + 1
            RETURNING next - 1 AS n`,
      );
      // the inbox's rule picks the agent (round robin, least loaded) among those online
      const assignee = await pickAssignee(tx, workspaceId, inbox);
      await tx.execute(sql`INSERT INTO conversations (workspace_id, id, number, inbox_id, customer_id, channel,
          contact_address, thread_key, subject, source, last_message_at, last_customer_message_at, assignee_id, team_id,
          created_at, updated_at)
        VALUES (${workspaceId}, ${conversationId}, ${Number(counter?.n ?? 1)}, ${inbox.id}, ${customerId}, ${inbox.channel},
          ${message.contactAddress ?? null}, ${threadKey}, ${message.subject ?? null},
          ${JSON.stringify(message.source ?? {})}::jsonb, ${at.toISOString()}::timestamptz,
          ${at.toISOString()}::timestamptz, ${assignee ?? null}, ${inbox.teamId}, now(), now())`);
    }
    const messageId = uuidv7();
    const direction = message.direction ?? "inbound";
    const inserted = await rows<{ id: string }>(
      tx,
      sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind, text, html,
          attachments, provider_message_id, metadata, created_at)
        VALUES (${workspaceId}, ${messageId}, ${conversationId}, ${inbox.id}, ${direction}, ${message.kind ?? "message"}, ${message.text},
          ${message.html ?? null}, ${JSON.stringify(message.attachments ?? [])}::jsonb, ${message.providerMessageId ?? null},
          ${JSON.stringify(message.metadata ?? {})}::jsonb, ${at.toISOString()}::timestamptz)
        ON CONFLICT DO NOTHING RETURNING id::text AS id`,
    );
    if (inserted.length === 0) {
      // the same provider message, taken in by a concurrent request first
      const seen = await findByProviderId(tx, workspaceId, inbox.id, message.providerMessageId ?? "");
      if (!seen) throw new Error("a conflicting inbound message vanished");
      return { ...seen, duplicate: true, opened: false };
    }
    // a customer's new message reopens the conversation, wherever it stood (an auto-reply does not)
    const fromCustomer = direction === "inbound" && message.reopen !== false;
    const reopen = message.reopen !== false && fromCustomer;
    await tx.execute(sql`UPDATE conversations SET
        status = CASE WHEN ${reopen} THEN 'open' ELSE status END,
        snoozed_until = CASE WHEN ${reopen} THEN NULL ELSE snoozed_until END,
        last_message_at = GREATEST(last_message_at, ${at.toISOString()}::timestamptz),
        last_customer_message_at = CASE WHEN ${fromCustomer} THEN ${at.toISOString()}::timestamptz
          ELSE last_customer_message_at END,
        contact_address = COALESCE(${message.contactAddress ?? null}, contact_address), updated_at = now()
      WHERE workspace_id = ${workspaceId} AND id = ${conversationId}`);
    const news = {
      conversationId,
      messageId,
      customerId,
      inboxId: inbox.id,
      direction,
      opened,
      providerMessageId: message.providerMessageId ?? null,
    };
    // an auto-reply is kept for the record and tells nobody
    if (!message.silent) {
      await publishInTransaction(tx, conversationsTopic(workspaceId), { type: "message.created", ...news });
      if (opened) {
        await emitWebhookEvent(tx, workspaceId, "conversation.created", {
          conversationId,
          customerId,
          inboxId: inbox.id,
        });
      }
      await emitWebhookEvent(tx, workspaceId, "message.created", { ...news, text: message.text });
    }
    return { duplicate: false, customerId, conversationId, messageId, opened };
  });
}

// PostgreSQL stores no NUL character in text or jsonb; a channel may still deliver one
const dropNul = (v: string) => v.replaceAll("\u0000", "");

function scrub(value: unknown): unknown {
  if (typeof value === "string") return dropNul(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [dropNul(k), scrub(v)]));
  }
  return value;
}

/** The message with NUL characters removed from everything that is stored. */
function withoutNul(message: InboundMessage): InboundMessage {
  const clean = (v: string | undefined) => (v === undefined ? undefined : dropNul(v));
  return {
    ...message,
    text: dropNul(message.text),
    html: clean(message.html),
    subject: clean(message.subject),
    contactAddress: clean(message.contactAddress),
    threadKey: clean(message.threadKey),
    providerMessageId: clean(message.providerMessageId),
    metadata: message.metadata
      ? Object.fromEntries(Object.entries(message.metadata).map(([k, v]) => [dropNul(k), scrub(v)]))
      : undefined,
  };
}

/**
 * The customer a message comes from. A sender whose identifiers all belong to one customer
 * already (the usual case: someone writing again) costs one lookup; anyone else, or a message
 * bringing traits, goes through identity resolution (which may create or merge profiles).
 */
async function senderOf(
  db: Db,
  workspaceId: string,
  message: InboundMessage,
  at: Date,
  reason: string,
  defaultCountry: string,
): Promise<string> {
  if (!message.traits) {
    const ids = message.from.map((i) => normalizeIdentifier(i.kind, i.value, defaultCountry));
    const owners = await lookupIdentities(db, workspaceId, ids);
    const found = new Set(ids.map((i) => owners.get(identifierKey(i))));
    const [only] = found;
    if (found.size === 1 && only !== undefined) return only;
  }
  const resolved = await identify(db, workspaceId, {
    identifiers: message.from,
    ...(message.traits ? { traits: message.traits } : {}),
    at,
    reason,
    defaultCountry,
  });
  return resolved.customerId;
}

/**
 * Changes a stored message in place (a call's later status, its recording, its transcript):
 * `change` sees the current text and metadata under a row lock and answers the new ones.
 * Agents hear of it as `message.updated`.
 */
export async function updateMessage(
  db: Db,
  workspaceId: string,
  messageId: string,
  change: (current: { text: string; metadata: Record<string, unknown> }) => {
    text?: string;
    metadata?: Record<string, unknown>;
  },
): Promise<void> {
  await transactionWithRetry(db, async (tx) => {
    const [row] = await rows<{
      text: string;
      metadata: Record<string, unknown>;
      conversationId: string;
      inboxId: string;
    }>(
      tx,
      sql`SELECT text, metadata, conversation_id::text AS "conversationId", inbox_id::text AS "inboxId"
          FROM conversation_messages WHERE workspace_id = ${workspaceId} AND id = ${messageId} FOR UPDATE`,
    );
    if (!row)
      throw new AppError("conversations.message_not_found", "No message with that id in this workspace.");
    const next = change({ text: row.text, metadata: row.metadata });
    await tx.execute(sql`UPDATE conversation_messages SET text = ${next.text ?? row.text},
        metadata = ${JSON.stringify(next.metadata ?? row.metadata)}::jsonb
      WHERE workspace_id = ${workspaceId} AND id = ${messageId}`);
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "message.updated",
      conversationId: row.conversationId,
      messageId,
      inboxId: row.inboxId,
    });
  });
}

/** The stored message of a provider's message id on an inbox, if any (to skip work for a replay). */
export async function findByProviderId(
  db: Db,
  workspaceId: string,
  inboxId: string,
  providerMessageId: string,
): Promise<Omit<InboundResult, "duplicate" | "opened"> | undefined> {
  const [row] = await rows<{ messageId: string; conversationId: string; customerId: string }>(
    db,
    sql`SELECT m.id::text AS "messageId", m.conversation_id::text AS "conversationId", c.customer_id::text AS "customerId"
        FROM conversation_messages m JOIN conversations c
          ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        WHERE m.workspace_id = ${workspaceId} AND m.inbox_id = ${inboxId} AND m.provider_message_id = ${providerMessageId}`,
  );
  return row;
}
