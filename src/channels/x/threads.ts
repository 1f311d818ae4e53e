import { sql } from "drizzle-orm";
import { type Db, rows } from "../../db/client.ts";
import { isOwnProviderMessage } from "../../delivery/deliveries.ts";
import { lookupIdentities } from "../../profiles/identifiers.ts";

/** A conversation an X message belongs to: whose it is, and the thread that keeps it apart. */
export type XThread = {
  conversationId: string;
  customerId: string;
  threadKey: string | null;
  contactAddress: string | null;
};

const THREAD = sql`c.id::text AS "conversationId", c.customer_id::text AS "customerId", c.thread_key AS "threadKey",
  c.contact_address AS "contactAddress"`;

/**
 * The conversation a tweet is part of on this inbox: a tweet taken in (found by its provider
 * message id), or a reply Rapport sent (found by its delivery, whose `source_ref` names the
 * conversation). A reply to either joins that conversation's thread.
 */
export async function conversationOfTweet(
  db: Db,
  workspaceId: string,
  inboxId: string,
  tweetId: string,
): Promise<XThread | undefined> {
  const [row] = await rows<XThread>(
    db,
    sql`(SELECT ${THREAD} FROM conversation_messages m
          JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
          WHERE m.workspace_id = ${workspaceId} AND m.inbox_id = ${inboxId} AND m.provider_message_id = ${tweetId}
          LIMIT 1)
        UNION ALL
        (SELECT ${THREAD} FROM deliveries d
          -- an agent's reply names its conversation in source_ref; the CASE keeps other sources' refs uncast
          JOIN conversations c ON c.workspace_id = d.workspace_id
            AND c.id = CASE WHEN d.source = 'agent' AND d.source_ref ~ '^[0-9a-f-]{36}$' THEN d.source_ref::uuid END
          WHERE d.workspace_id = ${workspaceId} AND d.provider = 'x' AND d.provider_message_id = ${tweetId}
            AND c.inbox_id = ${inboxId}
          LIMIT 1)
        LIMIT 1`,
  );
  return row;
}

/** Whether Rapport sent this tweet or DM (a delivery through an X inbox recorded its id). */
export async function sentByRapport(
  db: Db,
  workspaceId: string,
  providerMessageId: string,
): Promise<boolean> {
  return isOwnProviderMessage(db, workspaceId, "x", providerMessageId);
}

const squash = (t: string) => t.replace(/\s+/g, " ").trim();

/**
 * Whether a reply of this inbox to this customer, with this text, is being sent right now.
 * X may post the echo of a tweet or DM before the delivery engine has recorded the id X
 * answered; such an echo is Rapport's own and must not be stored a second time.
 */
export async function replyInFlight(
  db: Db,
  workspaceId: string,
  inboxId: string,
  customerId: string,
  text: string,
): Promise<boolean> {
  const pending = await rows<{ text: string | null }>(
    db,
    sql`SELECT content->>'text' AS text FROM deliveries
        WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId}
          AND created_at > now() - interval '1 day'
          AND channel = 'x' AND state IN ('queued', 'sending') AND request->'via'->>'inboxId' = ${inboxId}`,
  );
  const wanted = squash(text);
  return pending.some((p) => p.text !== null && squash(p.text) === wanted);
}

/** The customer who holds this X user id, if any. */
export async function customerOfXUser(
  db: Db,
  workspaceId: string,
  userId: string,
): Promise<string | undefined> {
  const owners = await lookupIdentities(db, workspaceId, [{ kind: "x_id", value: userId }]);
  return owners.get(`x_id:${userId}`);
}

/** A customer's conversation on this inbox and thread (the latest), if any. */
export async function conversationOnThread(
  db: Db,
  workspaceId: string,
  inboxId: string,
  customerId: string,
  threadKey: string,
): Promise<XThread | undefined> {
  const [row] = await rows<XThread>(
    db,
    sql`SELECT ${THREAD} FROM conversations c
        WHERE c.workspace_id = ${workspaceId} AND c.inbox_id = ${inboxId} AND c.customer_id = ${customerId}
          AND c.thread_key = ${threadKey}
        ORDER BY c.last_message_at DESC LIMIT 1`,
  );
  return row;
}
