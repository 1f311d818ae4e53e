import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { emitWebhookEvent } from "../delivery/webhooks/dispatch.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { type AuditActor, recordAudit } from "../platform/audit.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { type Conversation, getConversation } from "./conversations.ts";
import { conversationsTopic } from "./inbound.ts";
import { type ConversationSource, type ConversationStatus, PRIORITIES } from "./tables.ts";

/** `POST /conversations/:id/merge`: the conversation named in the path goes into `into`. */
export const MergeInput = z.object({
  into: z.string().describe("The conversation that stays: this one's messages move there."),
});
export type MergeInput = z.infer<typeof MergeInput>;

/** Who merges: recorded on the activity messages (a user) and in the audit log. */
export type MergedBy = { actor: AuditActor; userId: string | null; ip?: string | null | undefined };

export type MergeResult = { into: Conversation; merged: Conversation };

type Locked = {
  id: string;
  number: number;
  inboxId: string;
  customerId: string;
  status: ConversationStatus;
  snoozedUntil: string | null;
  priority: (typeof PRIORITIES)[number];
  assigneeId: string | null;
  teamId: string | null;
  labels: string[];
  attributes: Record<string, unknown>;
  source: ConversationSource;
  createdAt: string;
  mergedIntoId: string | null;
  intoNumber: number | null;
};

// the order a merged conversation takes the livelier status in: waiting work is never hidden
const LIVELINESS: Record<ConversationStatus, number> = { open: 0, pending: 1, snoozed: 2, resolved: 3 };

/**
 * Merges one conversation into another of the same customer (Zendesk's and Front's "merge into"):
 * the source's messages move to the target, which then shows one timeline in time order and
 * keeps the earlier start and first response; labels and attributes combine; the source stays
 * as a resolved stub pointing at the target, so links and channel threads still lead there.
 * Both rows are locked in id order, so concurrent merges of the same pair cannot deadlock.
 */
export async function mergeConversations(
  db: Db,
  workspaceId: string,
  sourceId: string,
  input: MergeInput,
  by: MergedBy,
): Promise<MergeResult> {
  for (const id of [sourceId, input.into]) {
    if (!isUuid(id))
      throw new AppError("conversations.invalid_id", `"${id}" is not a conversation id (a UUID).`, { id });
  }
  // one spelling of each id, so every merge of a pair locks its rows in the same order
  sourceId = sourceId.toLowerCase();
  const intoId = input.into.toLowerCase();
  if (sourceId === intoId) {
    throw new AppError(
      "conversations.invalid_merge",
      "A conversation cannot be merged into itself; name another conversation in `into`.",
    );
  }
  await transactionWithRetry(db, async (tx) => {
    const locked = new Map<string, Locked>();
    for (const id of [sourceId, intoId].sort()) locked.set(id, await lock(tx, workspaceId, id));
    const source = locked.get(sourceId);
    const target = locked.get(intoId);
    if (!source || !target) throw new Error("unreachable: both rows were locked");
    for (const c of [source, target]) {
      if (c.mergedIntoId) {
        throw new AppError(
          "conversations.already_merged_conflict",
          `Conversation #${c.number} was merged into #${c.intoNumber} already` +
            (c === target ? `; merge into #${c.intoNumber} instead.` : "."),
          { id: c.id, mergedIntoId: c.mergedIntoId, mergedIntoNumber: c.intoNumber },
        );
      }
    }
    if (source.customerId !== target.customerId) {
      throw new AppError(
        "conversations.merge_customer_conflict",
        `Conversations #${source.number} and #${target.number} are with two different customers; only one ` +
          "customer's conversations can be merged. If they are the same person, merge the customers first.",
        { customerId: source.customerId, intoCustomerId: target.customerId },
      );
    }
    const changes = await absorb(tx, workspaceId, source, target);
    const text = `Conversation #${source.number} was merged into #${target.number}.`;
    const activity = {
      activity: "conversation.merged",
      mergedId: source.id,
      mergedNumber: source.number,
      intoId: target.id,
      intoNumber: target.number,
    };
    for (const c of [source, target]) {
      await tx.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction,
          kind, author_id, text, metadata)
        VALUES (${workspaceId}, ${uuidv7()}, ${c.id}, ${c.inboxId}, 'outbound', 'activity', ${by.userId}, ${text},
          ${JSON.stringify(activity)}::jsonb)`);
    }
    await recordAudit(tx, {
      workspaceId,
      actor: by.actor,
      action: "conversation.merged",
      target: { kind: "conversation", id: source.id },
      details: activity,
      ip: by.ip,
    });
    await tell(tx, workspaceId, source, target, changes);
  });
  const [into, merged] = await Promise.all([
    getConversation(db, workspaceId, intoId),
    getConversation(db, workspaceId, sourceId),
  ]);
  return { into, merged };
}

async function lock(tx: Db, workspaceId: string, id: string): Promise<Locked> {
  const [row] = await rows<Locked>(
    tx,
    sql`SELECT c.id::text AS id, c.number, c.inbox_id::text AS "inboxId", c.customer_id::text AS "customerId",
          c.status, to_json(c.snoozed_until)#>>'{}' AS "snoozedUntil", c.priority, c.assignee_id::text AS "assigneeId",
          c.team_id::text AS "teamId", c.labels, c.attributes, c.source, to_json(c.created_at)#>>'{}' AS "createdAt",
          c.merged_into_id::text AS "mergedIntoId",
          (SELECT t.number FROM conversations t WHERE t.workspace_id = c.workspace_id AND t.id = c.merged_into_id)
            AS "intoNumber"
        FROM conversations c WHERE c.workspace_id = ${workspaceId} AND c.id = ${id} FOR UPDATE OF c`,
  );
  if (!row)
    throw new AppError(
      "conversations.conversation_not_found",
      "No conversation with that id in this workspace.",
      { id },
    );
  return row;
}

/**
 * Moves the source's messages and mentions to the target and folds the source's state into it;
 * answers the names of the target's fields that changed.
 */
async function absorb(tx: Db, workspaceId: string, source: Locked, target: Locked): Promise<string[]> {
  // each message remembers the conversation (and so the inbox thread) it came in on; the first
  // merge wins, so after a chain of merges it still names the conversation of its own inbox
  await tx.execute(sql`UPDATE conversation_messages SET conversation_id = ${target.id},
      metadata = CASE WHEN metadata ? 'mergedFrom' THEN metadata
        ELSE metadata || jsonb_build_object('mergedFrom',
          jsonb_build_object('conversationId', ${source.id}::text, 'number', ${source.number}::int)) END
    WHERE workspace_id = ${workspaceId} AND conversation_id = ${source.id}`);
  await tx.execute(sql`UPDATE conversation_mentions SET conversation_id = ${target.id}
    WHERE workspace_id = ${workspaceId} AND conversation_id = ${source.id}`);

  const livelier = LIVELINESS[source.status] < LIVELINESS[target.status];
  const status = livelier ? source.status : target.status;
  const snoozedUntil = livelier
    ? source.status === "snoozed"
      ? source.snoozedUntil
      : null
    : target.snoozedUntil;
  const priority =
    PRIORITIES.indexOf(source.priority) > PRIORITIES.indexOf(target.priority)
      ? source.priority
      : target.priority;
  const labels = [...new Set([...target.labels, ...source.labels])];
  // the target's own values win where both have one
  const attributes = { ...source.attributes, ...target.attributes };
  const earlier = Date.parse(source.createdAt) < Date.parse(target.createdAt) ? source : target;
  const origin = Object.keys(earlier.source).length > 0 ? earlier.source : target.source;
  await tx.execute(sql`UPDATE conversations t SET
      status = ${status}, snoozed_until = ${snoozedUntil}::timestamptz,
      resolved_at = CASE WHEN ${status} = 'resolved' THEN t.resolved_at ELSE NULL END,
      priority = ${priority}, assignee_id = COALESCE(t.assignee_id, s.assignee_id),
      team_id = COALESCE(t.team_id, s.team_id), subject = COALESCE(t.subject, s.subject),
      labels = ${JSON.stringify(labels)}::jsonb, attributes = ${JSON.stringify(attributes)}::jsonb,
      source = ${JSON.stringify(origin)}::jsonb,
      created_at = LEAST(t.created_at, s.created_at),
      first_response_at = LEAST(t.first_response_at, s.first_response_at),
      last_message_at = GREATEST(t.last_message_at, s.last_message_at),
      last_customer_message_at = GREATEST(t.last_customer_message_at, s.last_customer_message_at),
      updated_at = now()
    FROM conversations s
    WHERE t.workspace_id = ${workspaceId} AND t.id = ${target.id}
      AND s.workspace_id = ${workspaceId} AND s.id = ${source.id}`);
  await tx.execute(sql`UPDATE conversations SET merged_into_id = ${target.id}, status = 'resolved',
      resolved_at = CASE WHEN status = 'resolved' THEN COALESCE(resolved_at, now()) ELSE now() END,
      snoozed_until = NULL, updated_at = now()
    WHERE workspace_id = ${workspaceId} AND id = ${source.id}`);

  const changed: Array<[string, boolean]> = [
    ["status", status !== target.status],
    ["priority", priority !== target.priority],
    ["assigneeId", target.assigneeId === null && source.assigneeId !== null],
    ["teamId", target.teamId === null && source.teamId !== null],
    ["labels", labels.length !== target.labels.length],
    ["attributes", Object.keys(attributes).length !== Object.keys(target.attributes).length],
  ];
  return ["messages", ...changed.filter(([, c]) => c).map(([name]) => name)];
}

/** Agents' screens and the brand's webhooks hear of both sides of the merge. */
async function tell(
  tx: Db,
  workspaceId: string,
  source: Locked,
  target: Locked,
  targetChanges: string[],
): Promise<void> {
  const topic = conversationsTopic(workspaceId);
  await publishInTransaction(tx, topic, {
    type: "conversation.merged",
    conversationId: source.id,
    number: source.number,
    intoId: target.id,
    intoNumber: target.number,
  });
  const sourceChange = {
    conversationId: source.id,
    changes: ["status", "mergedIntoId"],
    reason: "merged",
    mergedIntoId: target.id,
  };
  const targetChange = {
    conversationId: target.id,
    changes: targetChanges,
    reason: "merged",
    mergedFromId: source.id,
  };
  for (const change of [sourceChange, targetChange]) {
    await publishInTransaction(tx, topic, { type: "conversation.updated", ...change });
    await emitWebhookEvent(tx, workspaceId, "conversation.updated", change);
  }
}

/**
 * The conversation a conversation's messages go to now: itself, or the one it was merged into
 * (following a chain of merges), locked for the caller's transaction. Channels route a new
 * message of a merged thread with it, so the message lands where the thread's history is.
 */
export async function liveConversationId(tx: Db, workspaceId: string, id: string): Promise<string> {
  let current = id;
  // a chain is as long as the merges agents made one after another; the bound only stops a cycle
  for (let hop = 0; hop < 32; hop++) {
    const [row] = await rows<{ mergedIntoId: string | null }>(
      tx,
      sql`SELECT merged_into_id::text AS "mergedIntoId" FROM conversations
          WHERE workspace_id = ${workspaceId} AND id = ${current} FOR UPDATE`,
    );
    if (!row?.mergedIntoId) return current;
    current = row.mergedIntoId;
  }
  throw new Error(`conversation ${id}: merges form a chain longer than 32`);
}
