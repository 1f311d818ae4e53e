import { sql } from "drizzle-orm";
import { z } from "zod";
import { conversationsTopic } from "../../conversations/inbound.ts";
import type { Attachment } from "../../conversations/tables.ts";
import { type Db, rows } from "../../db/client.ts";
import { transactionWithRetry } from "../../db/retry.ts";
import { emitWebhookEvent } from "../../delivery/webhooks/dispatch.ts";
import { AppError } from "../../errors.ts";
import { uuidv7 } from "../../ids.ts";
import { type EnqueueSpec, enqueueMany } from "../../jobs/index.ts";
import { publishInTransaction } from "../../realtime/bus.ts";
import { CallDetails, callSummary } from "./call-details.ts";

// A call's entry is a `call` message of its conversation. Calls Rapport places are written here
// before the provider is asked (so a failure is on record too); the entry is then found by its
// CallSid like any call, whichever comes first: Twilio's answer or its first status callback.

const StoredCall = z.object({ call: CallDetails.optional() });

/**
 * Appends an outbound call's entry to a conversation an agent is looking at (not the one
 * `receiveInbound` would pick): agents hear of it, and the brand's systems by webhook.
 */
export async function insertCallEntry(
  db: Db,
  workspaceId: string,
  entry: { conversationId: string; inboxId: string; authorId: string | null; call: CallDetails },
): Promise<string> {
  const id = uuidv7();
  const text = callSummary(entry.call);
  await transactionWithRetry(db, async (tx) => {
    await tx.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind,
        author_id, text, metadata)
      VALUES (${workspaceId}, ${id}, ${entry.conversationId}, ${entry.inboxId}, 'outbound', 'call', ${entry.authorId},
        ${text}, ${JSON.stringify({ call: entry.call })}::jsonb)`);
    await tx.execute(sql`UPDATE conversations SET last_message_at = now(), updated_at = now()
      WHERE workspace_id = ${workspaceId} AND id = ${entry.conversationId}`);
    const news = {
      conversationId: entry.conversationId,
      messageId: id,
      inboxId: entry.inboxId,
      direction: "outbound",
    };
    await publishInTransaction(tx, conversationsTopic(workspaceId), { type: "message.created", ...news });
    await emitWebhookEvent(tx, workspaceId, "message.created", { ...news, text });
  });
  return id;
}

/**
 * Gives an entry Rapport wrote its CallSid, once: from Twilio's answer to the call's creation,
 * or from a status callback that beat it (its URL names the entry). A no-op when the entry
 * already has it, belongs to another inbox, or is not a call.
 */
export async function adoptCallEntry(
  db: Db,
  workspaceId: string,
  inboxId: string,
  entryId: string,
  callSid: string,
): Promise<void> {
  await db.execute(sql`UPDATE conversation_messages SET provider_message_id = ${callSid}
    WHERE workspace_id = ${workspaceId} AND id = ${entryId} AND inbox_id = ${inboxId} AND kind = 'call'
      AND provider_message_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM conversation_messages o WHERE o.workspace_id = ${workspaceId}
        AND o.inbox_id = ${inboxId} AND o.provider_message_id = ${callSid})`);
}

/** What a call entry holds now (its details), or undefined when there is no such call entry. */
export async function readCallEntry(
  db: Db,
  workspaceId: string,
  messageId: string,
): Promise<CallDetails | undefined> {
  const [row] = await rows<{ metadata: Record<string, unknown> }>(
    db,
    sql`SELECT metadata FROM conversation_messages WHERE workspace_id = ${workspaceId} AND id = ${messageId} AND kind = 'call'`,
  );
  return row ? StoredCall.safeParse(row.metadata).data?.call : undefined;
}

/** What a change of a call entry answers: the new details, files to add, jobs to enqueue with it. */
export type CallChange = { call: CallDetails; attachments?: Attachment[]; jobs?: EnqueueSpec[] };

/**
 * Changes a call entry under a row lock: `change` sees what is stored and answers the new
 * details; the text follows them, added files join the message's, and `jobs` are enqueued in
 * the same transaction (a recording is fetched only if its news was stored). Agents hear of it.
 */
export async function changeCallEntry(
  db: Db,
  workspaceId: string,
  messageId: string,
  change: (current: CallDetails | undefined) => CallChange | undefined,
): Promise<CallDetails | undefined> {
  return transactionWithRetry(db, async (tx) => {
    const [row] = await rows<{ metadata: Record<string, unknown>; conversationId: string; inboxId: string }>(
      tx,
      sql`SELECT metadata, conversation_id::text AS "conversationId", inbox_id::text AS "inboxId"
          FROM conversation_messages WHERE workspace_id = ${workspaceId} AND id = ${messageId} AND kind = 'call'
          FOR UPDATE`,
    );
    if (!row) throw new AppError("twilio.call_not_found", "No call entry with that id in this workspace.");
    const next = change(StoredCall.safeParse(row.metadata).data?.call);
    if (!next) return undefined;
    await tx.execute(sql`UPDATE conversation_messages SET text = ${callSummary(next.call)},
        metadata = metadata || ${JSON.stringify({ call: next.call })}::jsonb,
        attachments = attachments || ${JSON.stringify(next.attachments ?? [])}::jsonb
      WHERE workspace_id = ${workspaceId} AND id = ${messageId}`);
    if (next.jobs && next.jobs.length > 0) await enqueueMany(tx, next.jobs);
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "message.updated",
      conversationId: row.conversationId,
      messageId,
      inboxId: row.inboxId,
    });
    return next.call;
  });
}
