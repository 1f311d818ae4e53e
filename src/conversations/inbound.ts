import { sql } from "drizzle-orm";
import { type Db, isEmbedded, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { emitWebhookEventsTo, enabledEndpointsExpression } from "../delivery/webhooks/dispatch.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import {
  type Identifier,
  type IdentityKind,
  identifierKey,
  lookupIdentities,
  normalizeIdentifier,
} from "../profiles/identifiers.ts";
import { resolveInTransaction } from "../profiles/resolve.ts";
import type { Traits } from "../profiles/tables.ts";
import { notifyExpression, publishInTransaction } from "../realtime/bus.ts";
import { pickAssignee } from "./assignment.ts";
import { getInbox, type Inbox } from "./inboxes.ts";
import { liveConversationId } from "./merge.ts";
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
  opts: {
    defaultCountry: string;
    /** The inbox, when the caller has just read it (to verify a signature): not read again. */
    inbox?: Inbox | undefined;
    /**
     * Work that must commit with the message (a job about it), run in its transaction once the
     * message is written; never for a replay.
     */
    inTransaction?: ((tx: Db, stored: InboundResult) => Promise<void>) | undefined;
  },
): Promise<InboundResult> {
  message = withoutNul(message);
  const inbox =
    opts.inbox?.id === message.inboxId ? opts.inbox : await getInbox(db, workspaceId, message.inboxId);
  if (message.from.length === 0) {
    throw new AppError(
      "conversations.invalid_sender",
      "An inbound message needs at least one sender identifier.",
    );
  }
  const at = message.receivedAt ?? new Date();
  const identifiers = message.from.map((i) => normalizeIdentifier(i.kind, i.value, opts.defaultCountry));
  const known = message.traits ? undefined : await knownSender(db, workspaceId, identifiers);
  const threadKey = message.threadKey ?? null;
  // A new conversation's display number is taken in the transaction's last statement, with the
  // conversation itself: the counter row stays locked only until the commit that follows, and a
  // transaction that rolls back (a replay, a retry) gives its number back: the numbers have no gaps.
  const embedded = isEmbedded(db);
  try {
    return await transactionWithRetry(db, async (tx) => {
      const stored = await writeInbound(tx, workspaceId, inbox, message, {
        identifiers,
        at,
        known,
        threadKey,
        embedded,
      });
      await opts.inTransaction?.(tx, stored);
      return stored;
    });
  } catch (err) {
    // a replay (or a twin taken in concurrently) is found by the insert itself, not looked up
    // first: replays are rare, and every other message saves the lookup
    if (!(err instanceof DuplicateInbound)) throw err;
    const seen = await findByProviderId(db, workspaceId, inbox.id, message.providerMessageId ?? "");
    if (!seen) throw new Error("a conflicting inbound message vanished");
    return { ...seen, duplicate: true, opened: false };
  }
}

/** The same provider message was taken in by a concurrent request first. */
class DuplicateInbound extends Error {}

/** `receiveInbound`'s transaction: the sender resolved, the conversation found or opened, the message written. */
async function writeInbound(
  tx: Db,
  workspaceId: string,
  inbox: Inbox,
  message: InboundMessage,
  w: {
    identifiers: Identifier[];
    at: Date;
    known: string | undefined;
    threadKey: string | null;
    embedded: boolean;
  },
): Promise<InboundResult> {
  const { identifiers, at, known, threadKey, embedded } = w;
  let customerId = known;
  let created = false;
  if (customerId === undefined) {
    // anyone else goes through identity resolution (which may create or merge profiles) in
    // this same transaction
    const resolved = await resolveInTransaction(tx, workspaceId, {
      identifiers,
      at,
      reason: `inbound:${inbox.kind}`,
      ...(message.traits ? { traits: message.traits } : {}),
    });
    customerId = resolved.customerId;
    created = resolved.created;
  }
  // A customer created by this transaction has no conversation, and a concurrent message from
  // the same sender waits on the identifier locks until this one commits; anyone else's
  // messages take the conversation lock: one conversation per customer, inbox and thread,
  // however many messages arrive at once.
  let current: Awaited<ReturnType<typeof currentConversation>>;
  if (!created) {
    // PGlite runs one transaction at a time: there the lock would guard nothing
    if (!embedded) {
      await tx.execute(
        sql`SELECT pg_advisory_xact_lock(hashtextextended(${`conv|${workspaceId}|${inbox.id}|${customerId}|${threadKey ?? ""}`}, 0))`,
      );
    }
    // the row stays locked to the end: a merge of this conversation waits for the message, or
    // the message waits for the merge and follows it
    current = await currentConversation(tx, workspaceId, inbox.id, customerId, threadKey, { lock: true });
    // a thread merged into another conversation goes on there
    if (current?.mergedIntoId) {
      current = { ...current, id: await liveConversationId(tx, workspaceId, current.mergedIntoId) };
    }
  }
  const opened = current === undefined;
  const conversationId = current?.id ?? uuidv7();
  const direction = message.direction ?? "inbound";
  // a customer's new message reopens the conversation, wherever it stood (an auto-reply does not)
  const fromCustomer = direction === "inbound" && message.reopen !== false;
  const messageId = uuidv7();
  const news = {
    conversationId,
    messageId,
    customerId,
    inboxId: inbox.id,
    direction,
    opened,
    providerMessageId: message.providerMessageId ?? null,
  };
  const iso = at.toISOString();
  // the conversation (opened or moved on), the message, and the news on the bus: one statement
  const conversationWrite = opened
    ? sql`INSERT INTO conversations (workspace_id, id, number, inbox_id, customer_id, channel,
          contact_address, thread_key, subject, source, last_message_at, last_customer_message_at, assignee_id,
          team_id, created_at, updated_at)
        VALUES (${workspaceId}, ${conversationId}, (SELECT n FROM counter),
          ${inbox.id}, ${customerId}, ${inbox.channel}, ${message.contactAddress ?? null}, ${threadKey},
          ${message.subject ?? null}, ${JSON.stringify(message.source ?? {})}::jsonb, ${iso}::timestamptz,
          ${fromCustomer ? iso : null}::timestamptz, ${(await pickAssignee(tx, workspaceId, inbox)) ?? null},
          ${inbox.teamId}, now(), now())
        RETURNING 1`
    : sql`UPDATE conversations SET
          status = CASE WHEN ${fromCustomer} THEN 'open' ELSE status END,
          snoozed_until = CASE WHEN ${fromCustomer} THEN NULL ELSE snoozed_until END,
          last_message_at = GREATEST(last_message_at, ${iso}::timestamptz),
          last_customer_message_at = CASE WHEN ${fromCustomer} THEN ${iso}::timestamptz
            ELSE last_customer_message_at END,
          resolved_at = CASE WHEN ${fromCustomer} THEN NULL ELSE resolved_at END,
          -- a merged thread's message from another channel leaves the conversation's address be
          contact_address = CASE WHEN inbox_id = ${inbox.id}
            THEN COALESCE(${message.contactAddress ?? null}, contact_address) ELSE contact_address END,
          updated_at = now()
        WHERE workspace_id = ${workspaceId} AND id = ${conversationId} AND EXISTS (SELECT 1 FROM m)
        RETURNING 1`;
  // an auto-reply is kept for the record and tells nobody
  const tell = !message.silent;
  const [written] = await rows<{ inserted: number; endpoints: unknown }>(
    tx,
    sql`WITH ${opened ? sql`counter AS (${nextNumberSql(workspaceId)}),` : sql``} m AS (
        INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind, text, html,
          attachments, provider_message_id, metadata, created_at)
        VALUES (${workspaceId}, ${messageId}, ${conversationId}, ${inbox.id}, ${direction}, ${message.kind ?? "message"},
          ${message.text}, ${message.html ?? null}, ${JSON.stringify(message.attachments ?? [])}::jsonb,
          ${message.providerMessageId ?? null}, ${JSON.stringify(message.metadata ?? {})}::jsonb, ${iso}::timestamptz)
        ON CONFLICT DO NOTHING RETURNING id
      ), c AS (${conversationWrite})
      SELECT (SELECT count(*)::int FROM m) AS inserted, (SELECT count(*) FROM c) AS conversations,
        ${
          tell
            ? sql`(SELECT ${notifyExpression(conversationsTopic(workspaceId), { type: "message.created", ...news })} FROM m) AS told,
        ${enabledEndpointsExpression(workspaceId)} AS endpoints`
            : sql`'[]'::json AS endpoints`
        }`,
  );
  if (!written?.inserted) {
    // the same provider message, taken in by a concurrent request first: undo this attempt
    // (an opened conversation included) and answer the stored one
    throw new DuplicateInbound();
  }
  if (tell) {
    await emitWebhookEventsTo(tx, workspaceId, written.endpoints, [
      ...(opened
        ? [{ type: "conversation.created", data: { conversationId, customerId, inboxId: inbox.id } }]
        : []),
      { type: "message.created", data: { ...news, text: message.text } },
    ]);
  }
  return { duplicate: false, customerId, conversationId, messageId, opened };
}

/**
 * The customer a sender already is, when every identifier they bring belongs to that one
 * customer (the usual case: someone writing again): one lookup, no resolution needed.
 */
async function knownSender(
  db: Db,
  workspaceId: string,
  identifiers: Identifier[],
): Promise<string | undefined> {
  const owners = await lookupIdentities(db, workspaceId, identifiers);
  const found = new Set(identifiers.map((i) => owners.get(identifierKey(i))));
  const [only] = found;
  return found.size === 1 ? only : undefined;
}

/**
 * The conversation a customer's message on this inbox and thread belongs to, if any (it may
 * have been merged into another since); `lock` holds its row for the caller's transaction.
 */
async function currentConversation(
  db: Db,
  workspaceId: string,
  inboxId: string,
  customerId: string,
  threadKey: string | null,
  opts: { lock?: boolean } = {},
): Promise<{ id: string; status: string; mergedIntoId: string | null } | undefined> {
  const [row] = await rows<{ id: string; status: string; mergedIntoId: string | null }>(
    db,
    sql`SELECT id::text AS id, status, merged_into_id::text AS "mergedIntoId" FROM conversations
        WHERE workspace_id = ${workspaceId} AND inbox_id = ${inboxId} AND customer_id = ${customerId}
          AND thread_key IS NOT DISTINCT FROM ${threadKey}
        ORDER BY last_message_at DESC LIMIT 1 ${opts.lock ? sql`FOR UPDATE` : sql``}`,
  );
  return row;
}

/** The statement that takes the workspace's next conversation display number (#1, #2…) as `n`. */
function nextNumberSql(workspaceId: string) {
  return sql`INSERT INTO conversation_counters (workspace_id, next) VALUES (${workspaceId}, 2)
    ON CONFLICT (workspace_id) DO UPDATE SET next = conversation_counters.next + 1
    RETURNING next - 1 AS n`;
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
