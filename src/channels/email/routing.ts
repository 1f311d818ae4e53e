import { sql } from "drizzle-orm";
import { getMessagingSettings } from "../../consent/settings.ts";
import { type Db, rows } from "../../db/client.ts";
import { eachValue } from "../../db/sql-lists.ts";
import { readReplyAddress, replyMacValid } from "./reply-address.ts";

/** An email inbox an address leads to. */
export type EmailInbox = { workspaceId: string; inboxId: string; address: string };

/** A conversation an email belongs to, with the thread key it is kept under. */
export type ConversationRef = {
  workspaceId: string;
  inboxId: string;
  conversationId: string;
  threadKey: string | null;
};

/** A message Rapport sent by SMTP (the delivery ledger), found by the Message-ID it carried. */
export type SentEmail = {
  workspaceId: string;
  deliveryId: string;
  customerId: string;
  providerMessageId: string;
  address: string | null;
};

/**
 * The email inboxes whose address is one of `addresses` (any case), the earliest recipient
 * first; across workspaces when `workspaceId` is undefined (the SMTP listener does not know
 * it). When two workspaces claim one address the oldest inbox wins, so a workspace created
 * later cannot take another's mail by claiming its address.
 */
export async function inboxesByAddress(
  db: Db,
  workspaceId: string | undefined,
  addresses: string[],
): Promise<EmailInbox[]> {
  if (addresses.length === 0) return [];
  const list = [...new Set(addresses.map((a) => a.toLowerCase()))];
  return rows<EmailInbox>(
    db,
    sql`SELECT i.workspace_id::text AS "workspaceId", i.id::text AS "inboxId", lower(i.address) AS address
        FROM ${eachValue(list)} JOIN inboxes i ON i.kind = 'email' AND lower(i.address) = x.v
        WHERE ${workspaceId === undefined ? sql`TRUE` : sql`i.workspace_id = ${workspaceId}`}
        ORDER BY x.n, i.created_at, i.id`,
  );
}

/** A workspace's oldest email inbox: where answers to its outbound email land when no inbox address was written to. */
export async function firstEmailInbox(db: Db, workspaceId: string): Promise<EmailInbox | undefined> {
  const [row] = await rows<EmailInbox>(
    db,
    sql`SELECT workspace_id::text AS "workspaceId", id::text AS "inboxId", lower(address) AS address
        FROM inboxes WHERE workspace_id = ${workspaceId} AND kind = 'email'
        ORDER BY created_at, id LIMIT 1`,
  );
  return row;
}

/**
 * The conversation a `reply+<token>@…` recipient names, when its HMAC checks out with the
 * workspace's link secret. Without a known workspace the candidates are the workspaces with
 * an email inbox on the address's domain, then the conversation's own workspace.
 */
export async function conversationByReplyAddress(
  db: Db,
  workspaceId: string | undefined,
  recipients: string[],
): Promise<ConversationRef | undefined> {
  for (const recipient of recipients) {
    const token = readReplyAddress(recipient);
    if (!token) continue;
    const [conversation] = await rows<ConversationRef>(
      db,
      sql`SELECT workspace_id::text AS "workspaceId", inbox_id::text AS "inboxId", id::text AS "conversationId",
            thread_key AS "threadKey"
          FROM conversations
          WHERE id = ${token.conversationId}
            ${workspaceId === undefined ? sql`` : sql`AND workspace_id = ${workspaceId}`}
          LIMIT 1`,
    );
    if (!conversation) continue;
    const settings = await getMessagingSettings(db, conversation.workspaceId);
    if (replyMacValid(settings.linkSecret, conversation.conversationId, token.mac)) return conversation;
  }
  return undefined;
}

/**
 * The conversation of this inbox holding a message with one of these Message-IDs: a stored
 * inbound email, or an agent's reply whose delivery carried it. The first id in `ids` that
 * matches wins (callers put In-Reply-To first, then References nearest first).
 */
export async function conversationByMessageIds(
  db: Db,
  workspaceId: string,
  inboxId: string,
  ids: string[],
): Promise<ConversationRef | undefined> {
  if (ids.length === 0) return undefined;
  const [row] = await rows<ConversationRef>(
    db,
    sql`SELECT c.workspace_id::text AS "workspaceId", c.inbox_id::text AS "inboxId", c.id::text AS "conversationId",
          c.thread_key AS "threadKey"
        FROM ${eachValue(ids)}
        CROSS JOIN LATERAL (
          -- a message moved by a merge names the thread it came from: the new message goes there
          -- (this inbox, that thread), and on with the merge
          SELECT COALESCE((m.metadata->'mergedFrom'->>'conversationId')::uuid, m.conversation_id) AS conversation_id
            FROM conversation_messages m
            WHERE m.workspace_id = ${workspaceId} AND m.inbox_id = ${inboxId} AND m.provider_message_id = x.v
          UNION ALL
          SELECT COALESCE((m.metadata->'mergedFrom'->>'conversationId')::uuid, m.conversation_id) FROM deliveries d
            JOIN conversation_messages m ON m.workspace_id = d.workspace_id AND m.delivery_id = d.id
            WHERE d.workspace_id = ${workspaceId} AND d.provider = 'smtp' AND d.provider_message_id = x.v
              AND m.inbox_id = ${inboxId}
        ) hit
        JOIN conversations c ON c.workspace_id = ${workspaceId} AND c.id = hit.conversation_id
        ORDER BY x.n, c.last_message_at DESC LIMIT 1`,
  );
  return row;
}

/**
 * An email Rapport sent (a journey step, a broadcast, a notice, an agent's reply) that carried
 * one of these Message-IDs, first id first; across workspaces when `workspaceId` is undefined.
 */
export async function sentEmailByMessageIds(
  db: Db,
  workspaceId: string | undefined,
  ids: string[],
): Promise<SentEmail | undefined> {
  if (ids.length === 0) return undefined;
  const [row] = await rows<SentEmail>(
    db,
    sql`SELECT d.workspace_id::text AS "workspaceId", d.id::text AS "deliveryId", d.customer_id::text AS "customerId",
          d.provider_message_id AS "providerMessageId", d.address
        FROM ${eachValue(ids)}
        JOIN deliveries d ON d.provider = 'smtp' AND d.provider_message_id = x.v
          ${workspaceId === undefined ? sql`` : sql`AND d.workspace_id = ${workspaceId}`}
        ORDER BY x.n, d.created_at DESC LIMIT 1`,
  );
  return row;
}

/**
 * This customer's recent conversation (last message within `days`) on this inbox whose
 * subject, normalised, is this one: the fallback when a mail client dropped the thread headers.
 */
export async function conversationsOfCustomer(
  db: Db,
  workspaceId: string,
  inboxId: string,
  customerId: string,
  days: number,
): Promise<Array<ConversationRef & { subject: string | null }>> {
  return rows<ConversationRef & { subject: string | null }>(
    db,
    sql`SELECT workspace_id::text AS "workspaceId", inbox_id::text AS "inboxId", id::text AS "conversationId",
          thread_key AS "threadKey", subject
        FROM conversations
        WHERE workspace_id = ${workspaceId} AND inbox_id = ${inboxId} AND customer_id = ${customerId}
          AND last_message_at > now() - make_interval(days => ${days})
        ORDER BY last_message_at DESC LIMIT 50`,
  );
}
