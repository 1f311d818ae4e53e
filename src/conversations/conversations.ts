import { sql } from "drizzle-orm";
import { z } from "zod";
import { CHANNELS, type Channel } from "../consent/tables.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { emitWebhookEvent } from "../delivery/webhooks/dispatch.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { registerMergeHook } from "../profiles/merge.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { CONVERSATION_SORTS, decodeCursor, encodeCursor, ordering } from "./conversation-order.ts";
import { conversationsTopic } from "./inbound.ts";
import { type ConversationPost, POST_COLUMN, POST_JOIN } from "./social-posts.ts";
import { type Attachment, CONVERSATION_STATUSES, type ConversationSource, PRIORITIES } from "./tables.ts";
import { readJoin, UNREAD } from "./unread.ts";

/** A conversation's own fields, as lists show them. */
export type ConversationRow = {
  id: string;
  number: number;
  inboxId: string;
  customerId: string;
  channel: Channel | null;
  contactAddress: string | null;
  subject: string | null;
  status: (typeof CONVERSATION_STATUSES)[number];
  snoozedUntil: string | null;
  priority: (typeof PRIORITIES)[number];
  assigneeId: string | null;
  teamId: string | null;
  labels: string[];
  attributes: Record<string, unknown>;
  source: ConversationSource;
  /** Set once this conversation was merged into another: its messages live there now. */
  mergedIntoId: string | null;
  firstResponseAt: string | null;
  resolvedAt: string | null;
  lastMessageAt: string;
  lastCustomerMessageAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The customer wrote since the viewing agent last read it (`POST …/read`), or it was never read. */
  unread: boolean;
};

/** One conversation: its fields, and the post a comment conversation belongs to (null for the rest). */
export type Conversation = ConversationRow & { post: ConversationPost | null };

export type ConversationMessage = {
  id: string;
  conversationId: string;
  direction: "inbound" | "outbound";
  kind: "message" | "note" | "activity" | "call";
  authorId: string | null;
  text: string;
  html: string | null;
  attachments: Attachment[];
  deliveryId: string | null;
  /** The delivery's state for outbound messages (sent, failed…), so agents see their fate. */
  deliveryState: string | null;
  /** Why the delivery failed or is retried (the provider's words), or why the Gate skipped it. */
  deliveryError: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
};

const ts = (col: string) => sql.raw(`to_json(c.${col})#>>'{}'`);
const COLUMNS = sql`c.id::text AS id, c.number, c.inbox_id::text AS "inboxId", c.customer_id::text AS "customerId",
  c.channel, c.contact_address AS "contactAddress", c.subject, c.status, ${ts("snoozed_until")} AS "snoozedUntil",
  c.priority, c.assignee_id::text AS "assigneeId", c.team_id::text AS "teamId", c.labels, c.attributes, c.source,
  c.merged_into_id::text AS "mergedIntoId", ${ts("first_response_at")} AS "firstResponseAt", ${ts("resolved_at")} AS "resolvedAt",
  ${ts("last_message_at")} AS "lastMessageAt", ${ts("last_customer_message_at")} AS "lastCustomerMessageAt",
  ${ts("created_at")} AS "createdAt", ${ts("updated_at")} AS "updatedAt", ${UNREAD} AS unread`;

function requireId(id: string, what: string): void {
  if (!isUuid(id))
    throw new AppError("conversations.invalid_id", `"${id}" is not a ${what} id (a UUID).`, { id });
}

/**
 * One conversation, `unread` as the viewing agent sees it, with its post when it is a comment
 * conversation; another workspace's id is simply not found.
 */
export async function getConversation(
  db: Db,
  workspaceId: string,
  id: string,
  viewer?: { userId: string },
): Promise<Conversation> {
  requireId(id, "conversation");
  const [row] = await rows<Conversation>(
    db,
    sql`SELECT ${COLUMNS}, ${POST_COLUMN} AS post FROM conversations c ${readJoin(viewer)} ${POST_JOIN}
        WHERE c.workspace_id = ${workspaceId} AND c.id = ${id}`,
  );
  if (!row)
    throw new AppError(
      "conversations.conversation_not_found",
      "No conversation with that id in this workspace.",
      { id },
    );
  return row;
}

export const CONVERSATION_VIEWS = ["mine", "unassigned", "all"] as const;

const statusList = z
  .string()
  .refine((s) => s.split(",").every((v) => CONVERSATION_STATUSES.some((x) => x === v.trim())), {
    message: `give one or several of ${CONVERSATION_STATUSES.join(", ")}, comma-separated`,
  });

export const ConversationFilter = z.object({
  view: z
    .enum(CONVERSATION_VIEWS)
    .default("all")
    .describe("mine: assigned to the signed-in agent; unassigned: nobody's yet; all: every conversation."),
  status: statusList.optional().describe("One or several statuses, comma-separated: `open,pending`."),
  priority: z.enum(PRIORITIES).optional(),
  inboxId: z.uuid().optional(),
  channel: z.enum(CHANNELS).optional(),
  teamId: z.uuid().optional(),
  label: z.string().trim().min(1).max(64).optional(),
  assigneeId: z.uuid().optional(),
  customerId: z.uuid().optional(),
  sort: z
    .enum(CONVERSATION_SORTS)
    .default("last_message")
    .describe(
      "last_message: latest activity first; waiting: the customer who has waited longest for an answer " +
        "first (only conversations whose last message is the customer's); created: newest first; " +
        "priority: urgent first, then latest activity.",
    ),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
export type ConversationFilter = z.input<typeof ConversationFilter>;

/** A conversation as a list shows it: who the customer is and what was said last. */
export type ConversationListItem = ConversationRow & {
  /** The customer's name, else their email or phone, else the address they wrote from. */
  customerName: string | null;
  /** The latest message or note (activities left out), its text cut to 140 characters. */
  lastMessage: {
    preview: string;
    direction: "inbound" | "outbound";
    kind: "message" | "note" | "call";
    at: string;
  } | null;
};

/**
 * Conversations for an inbox view: mine, unassigned or all, narrowed by status, inbox, channel,
 * team, label, priority or customer, in one of four orders with a cursor that keeps its order.
 * Each row carries the customer's name, the last message's preview and whether the viewing agent
 * has it unread, read in the same query.
 */
export async function listConversations(
  db: Db,
  workspaceId: string,
  filter: ConversationFilter,
  viewer?: { userId: string },
): Promise<{ data: ConversationListItem[]; nextCursor: string | null }> {
  const parsed = ConversationFilter.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "conversations.invalid_filter",
      `${issue?.path.join(".") || "filter"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const f = parsed.data;
  if (f.view === "mine" && !viewer) {
    throw new AppError(
      "conversations.view_needs_agent",
      "view=mine lists the signed-in agent's conversations, and a secret key is no agent: sign in, or filter by assigneeId.",
    );
  }
  const statuses = f.status ? [...new Set(f.status.split(",").map((s) => s.trim()))] : [];
  const after = f.cursor ? decodeCursor(f.cursor, f.sort) : undefined;
  const { where, order } = ordering(f.sort, after);
  // the page is chosen first, on conversations alone (an index gives the order), and only its
  // rows are then joined to the customer, the agent's read marker and the last message: the cost
  // stays that of one page however many conversations match, whatever the planner knows of them
  const found = await rows<ConversationListItem>(
    db,
    sql`WITH c AS (
        SELECT c.* FROM conversations c
        WHERE c.workspace_id = ${workspaceId}
        ${f.view === "mine" && viewer ? sql`AND c.assignee_id = ${viewer.userId}` : sql``}
        ${f.view === "unassigned" ? sql`AND c.assignee_id IS NULL` : sql``}
        ${
          statuses.length
            ? sql`AND c.status IN (${sql.join(
                statuses.map((s) => sql`${s}`),
                sql`, `,
              )})`
            : sql``
        }
        ${f.priority ? sql`AND c.priority = ${f.priority}` : sql``}
        ${f.inboxId ? sql`AND c.inbox_id = ${f.inboxId}` : sql``}
        ${f.channel ? sql`AND c.channel = ${f.channel}` : sql``}
        ${f.teamId ? sql`AND c.team_id = ${f.teamId}` : sql``}
        ${f.label ? sql`AND c.labels @> ${JSON.stringify([f.label])}::jsonb` : sql``}
        ${f.assigneeId ? sql`AND c.assignee_id = ${f.assigneeId}` : sql``}
        ${f.customerId ? sql`AND c.customer_id = ${f.customerId}` : sql``}
        ${where}
        ORDER BY ${order} LIMIT ${f.limit + 1}
      )
      SELECT ${COLUMNS},
          COALESCE(NULLIF(btrim(cu.traits->>'name'), ''),
            NULLIF(btrim(concat_ws(' ', cu.traits->>'first_name', cu.traits->>'last_name')), ''),
            NULLIF(btrim(concat_ws(' ', cu.traits->>'firstName', cu.traits->>'lastName')), ''),
            cu.traits->>'email', cu.traits->>'phone',
            (SELECT i.value FROM identities i WHERE i.workspace_id = c.workspace_id AND i.customer_id = c.customer_id
              AND i.kind IN ('email', 'phone') ORDER BY i.kind, i.value LIMIT 1),
            c.contact_address) AS "customerName",
          lm.item AS "lastMessage"
        FROM c
        LEFT JOIN customers cu ON cu.workspace_id = c.workspace_id AND cu.id = c.customer_id
        ${readJoin(viewer)}
        LEFT JOIN LATERAL (
          SELECT json_build_object('preview', left(m.text, 140), 'direction', m.direction, 'kind', m.kind,
            'at', to_json(m.created_at)#>>'{}') AS item
          FROM conversation_messages m
          WHERE m.workspace_id = c.workspace_id AND m.conversation_id = c.id AND m.kind <> 'activity'
          ORDER BY m.created_at DESC, m.id DESC LIMIT 1
        ) lm ON true
        ORDER BY ${order}`,
  );
  const page = found.slice(0, f.limit);
  const last = page.at(-1);
  return { data: page, nextCursor: found.length > f.limit && last ? encodeCursor(f.sort, last) : null };
}

/**
 * A conversation's messages in time order (oldest first), with the fate of each outbound one.
 * Time, not insertion, orders them: a merged conversation's messages interleave as they were
 * written. Pages go forward from the start (`after`: the last message id of the previous page,
 * answered with `nextCursor`), or backward from the newest (`latest`, then `before`: the first
 * message id of the page already shown, answered with `previousCursor`), as an inbox reads a
 * long conversation from its end.
 */
export async function listMessages(
  db: Db,
  workspaceId: string,
  conversationId: string,
  page: {
    limit: number;
    after?: string | undefined;
    before?: string | undefined;
    latest?: boolean | undefined;
  },
): Promise<{ data: ConversationMessage[]; nextCursor: string | null; previousCursor: string | null }> {
  await getConversation(db, workspaceId, conversationId);
  if (page.after !== undefined && (page.before !== undefined || page.latest)) {
    throw new AppError(
      "conversations.invalid_cursor",
      "Page forward (cursor) or backward (before, latest), not both at once.",
    );
  }
  const at = async (id: string) => {
    requireId(id, "message");
    // the cursor's message may have moved to another conversation by a merge: its place in time stays
    const [found] = await rows<{ at: string; id: string }>(
      db,
      sql`SELECT to_json(created_at)#>>'{}' AS at, id::text AS id FROM conversation_messages
          WHERE workspace_id = ${workspaceId} AND id = ${id}`,
    );
    if (!found) {
      throw new AppError(
        "conversations.invalid_cursor",
        "The cursor is not one this API gave out; start again without it.",
      );
    }
    return found;
  };
  const after = page.after !== undefined ? await at(page.after) : undefined;
  const before = page.before !== undefined ? await at(page.before) : undefined;
  const backward = before !== undefined || page.latest === true;
  const found = await rows<ConversationMessage>(
    db,
    sql`SELECT m.id::text AS id, m.conversation_id::text AS "conversationId", m.direction, m.kind,
          m.author_id::text AS "authorId", m.text, m.html, m.attachments, m.delivery_id::text AS "deliveryId",
          d.state AS "deliveryState", COALESCE(d.error->>'reason', CASE WHEN d.state = 'skipped' THEN d.gate->>'reason' END) AS "deliveryError", m.metadata, to_json(m.created_at)#>>'{}' AS "createdAt"
        FROM conversation_messages m
        LEFT JOIN deliveries d ON d.workspace_id = m.workspace_id AND d.id = m.delivery_id
        WHERE m.workspace_id = ${workspaceId} AND m.conversation_id = ${conversationId}
          ${after ? sql`AND (m.created_at, m.id) > (${after.at}::timestamptz, ${after.id}::uuid)` : sql``}
          ${before ? sql`AND (m.created_at, m.id) < (${before.at}::timestamptz, ${before.id}::uuid)` : sql``}
        ORDER BY ${backward ? sql`m.created_at DESC, m.id DESC` : sql`m.created_at, m.id`} LIMIT ${page.limit + 1}`,
  );
  const more = found.length > page.limit;
  if (backward) {
    const data = found.slice(0, page.limit).reverse();
    return { data, nextCursor: null, previousCursor: more ? (data[0]?.id ?? null) : null };
  }
  const data = found.slice(0, page.limit);
  return { data, nextCursor: more ? (data.at(-1)?.id ?? null) : null, previousCursor: null };
}

export const ConversationPatch = z
  .object({
    status: z.enum(CONVERSATION_STATUSES).optional(),
    snoozedUntil: z.iso.datetime({ offset: true }).nullable().optional(),
    priority: z.enum(PRIORITIES).optional(),
    assigneeId: z.uuid().nullable().optional(),
    teamId: z.uuid().nullable().optional(),
    labels: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((p) => p.status !== "snoozed" || (p.snoozedUntil !== undefined && p.snoozedUntil !== null), {
    message: "snoozing needs snoozedUntil (when the conversation comes back)",
    path: ["snoozedUntil"],
  });
export type ConversationPatch = z.input<typeof ConversationPatch>;

/**
 * Changes a conversation's status (snooze until a time, resolve), priority, assignee, team,
 * labels or attributes. Agents' screens hear of it on the bus, the brand's systems by webhook.
 */
export async function updateConversation(
  db: Db,
  workspaceId: string,
  id: string,
  patch: ConversationPatch,
  now: Date = new Date(),
): Promise<Conversation> {
  requireId(id, "conversation");
  const parsed = ConversationPatch.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "conversations.invalid_patch",
      `${issue?.path.join(".") || "patch"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const p = parsed.data;
  if (p.snoozedUntil && Date.parse(p.snoozedUntil) <= now.getTime()) {
    throw new AppError("conversations.invalid_patch", "snoozedUntil must be in the future.");
  }
  if (p.assigneeId) {
    const [user] = await rows<{ id: string }>(
      db,
      sql`SELECT id::text AS id FROM users WHERE workspace_id = ${workspaceId} AND id = ${p.assigneeId} AND status = 'active'`,
    );
    if (!user)
      throw new AppError(
        "conversations.assignee_not_found",
        "No active user with that id in this workspace.",
      );
  }
  await transactionWithRetry(db, async (tx) => {
    await assertNotMerged(tx, workspaceId, id);
    // resolvedAt is the current resolution: kept when resolved again, cleared by any other status
    const [row] = await rows<{ id: string }>(
      tx,
      sql`UPDATE conversations SET updated_at = now()
          ${
            p.status
              ? sql`, status = ${p.status}, resolved_at = CASE WHEN ${p.status} <> 'resolved' THEN NULL
                  WHEN status = 'resolved' THEN COALESCE(resolved_at, now()) ELSE now() END`
              : sql``
          }
          ${p.status && p.status !== "snoozed" ? sql`, snoozed_until = NULL` : sql``}
          ${p.snoozedUntil !== undefined ? sql`, snoozed_until = ${p.snoozedUntil}::timestamptz` : sql``}
          ${p.priority ? sql`, priority = ${p.priority}` : sql``}
          ${p.assigneeId !== undefined ? sql`, assignee_id = ${p.assigneeId}` : sql``}
          ${p.teamId !== undefined ? sql`, team_id = ${p.teamId}` : sql``}
          ${p.labels ? sql`, labels = ${JSON.stringify([...new Set(p.labels)])}::jsonb` : sql``}
          ${p.attributes ? sql`, attributes = attributes || ${JSON.stringify(p.attributes)}::jsonb` : sql``}
          WHERE workspace_id = ${workspaceId} AND id = ${id} RETURNING id::text AS id`,
    );
    if (!row)
      throw new AppError(
        "conversations.conversation_not_found",
        "No conversation with that id in this workspace.",
        { id },
      );
    const change = { conversationId: id, changes: Object.keys(p) };
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "conversation.updated",
      ...change,
    });
    await emitWebhookEvent(tx, workspaceId, "conversation.updated", change);
  });
  return getConversation(db, workspaceId, id);
}

/**
 * Locks the conversation's row and refuses to change one that was merged away: it is a
 * resolved stub now, and what agents mean to change lives in the conversation it went into.
 */
async function assertNotMerged(tx: Db, workspaceId: string, id: string): Promise<void> {
  const [row] = await rows<{ number: number; mergedIntoId: string | null; intoNumber: number | null }>(
    tx,
    sql`SELECT c.number, c.merged_into_id::text AS "mergedIntoId", (SELECT t.number FROM conversations t WHERE t.workspace_id = c.workspace_id
          AND t.id = c.merged_into_id) AS "intoNumber"
        FROM conversations c WHERE c.workspace_id = ${workspaceId} AND c.id = ${id} FOR UPDATE OF c`,
  );
  if (row?.mergedIntoId) {
    throw new AppError(
      "conversations.already_merged_conflict",
      `Conversation #${row.number} was merged into #${row.intoNumber}; change that one instead.`,
      { id, mergedIntoId: row.mergedIntoId, mergedIntoNumber: row.intoNumber },
    );
  }
}

// a merged customer's conversations follow them to the survivor
registerMergeHook(async (tx, workspaceId, survivorId, mergedId) => {
  await tx.execute(sql`UPDATE conversations SET customer_id = ${survivorId}, updated_at = now()
    WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}`);
});
