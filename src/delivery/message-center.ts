import { type SQL, sql } from "drizzle-orm";
import type { AgentInAppMessage, InAppMessage, InAppState } from "../contracts/message-center.ts";
import { appTopic } from "../contracts/message-center.ts";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { iso, MESSAGE_COLUMNS, type MessageRow, presentMessage } from "./providers/in-app.ts";
import { recordProviderStatus } from "./status.ts";

function presentForAgent(r: MessageRow): AgentInAppMessage {
  return { ...presentMessage(r), customerId: r.customerId, deliveryId: r.deliveryId, expired: r.expired };
}

const LIVE = sql`(m.expires_at IS NULL OR m.expires_at > now())`;

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") {
      if (isUuid(v[1]) && Number.isFinite(Date.parse(v[0]))) return [v[0], v[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError(
    "request.invalid_cursor",
    "The cursor is not one this API returned; start again without it.",
  );
}

export type ListOptions = {
  state?: InAppState | undefined;
  limit: number;
  cursor?: string | undefined;
};

async function listRows(
  db: Db,
  workspaceId: string,
  customerId: string,
  where: SQL[],
  opts: ListOptions,
): Promise<{ rows: MessageRow[]; nextCursor: string | null }> {
  const all = [sql`m.workspace_id = ${workspaceId}`, sql`m.customer_id = ${customerId}`, ...where];
  if (opts.cursor) {
    const [createdAt, id] = decodeCursor(opts.cursor);
    all.push(sql`(m.created_at, m.id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  const found = await rows<MessageRow>(
    db,
    sql`SELECT ${MESSAGE_COLUMNS} FROM in_app_messages m WHERE ${sql.join(all, sql` AND `)}
        ORDER BY m.created_at DESC, m.id DESC LIMIT ${opts.limit + 1}`,
  );
  const page = found.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    nextCursor: found.length > opts.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/**
 * A customer's message center, newest first: the inbox (unread and read) by default, or one
 * state. Expired and deleted messages never show.
 */
export async function listMessages(
  db: Db,
  workspaceId: string,
  customerId: string,
  opts: ListOptions,
): Promise<{ data: InAppMessage[]; nextCursor: string | null }> {
  if (opts.state === "deleted") {
    throw new AppError(
      "message_center.invalid_state",
      "Deleted messages are gone; list unread, read or archived.",
    );
  }
  const state = opts.state ? sql`m.state = ${opts.state}` : sql`m.state IN ('unread', 'read')`;
  const page = await listRows(db, workspaceId, customerId, [state, LIVE], opts);
  return { data: page.rows.map(presentMessage), nextCursor: page.nextCursor };
}

/** Every message a customer was given, for agents: deleted and expired ones included. */
export async function listMessagesForAgent(
  db: Db,
  workspaceId: string,
  customerId: string,
  opts: ListOptions,
): Promise<{ data: AgentInAppMessage[]; nextCursor: string | null }> {
  const where = opts.state ? [sql`m.state = ${opts.state}`] : [];
  const page = await listRows(db, workspaceId, customerId, where, opts);
  return { data: page.rows.map(presentForAgent), nextCursor: page.nextCursor };
}

/** How many live messages the customer has not read (the app's badge). */
export async function unreadCount(db: Db, workspaceId: string, customerId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM in_app_messages m
        WHERE m.workspace_id = ${workspaceId} AND m.customer_id = ${customerId} AND m.state = 'unread' AND ${LIVE}`,
  );
  return r?.n ?? 0;
}

type Change = {
  set: SQL;
  when: (r: MessageRow) => boolean;
  includeGone: boolean;
  /** More to do in the same transaction once the message changed. */
  afterChange?: (tx: Db, before: MessageRow) => Promise<void>;
};

/**
 * Applies a change to one of the customer's messages, in a transaction that also tells the
 * customer's other app streams. Idempotent: a message already in the target state is left as
 * it is. Another customer's message, a deleted or an expired one is not found.
 */
async function change(
  db: Db,
  workspaceId: string,
  customerId: string,
  id: string,
  c: Change,
): Promise<MessageRow> {
  if (!isUuid(id)) {
    throw new AppError("message_center.invalid_id", `"${id}" is not a message id (a UUID).`, { id });
  }
  return db.transaction(async (tx) => {
    const [found] = await rows<MessageRow>(
      tx,
      sql`SELECT ${MESSAGE_COLUMNS} FROM in_app_messages m
          WHERE m.workspace_id = ${workspaceId} AND m.customer_id = ${customerId} AND m.id = ${id}
          FOR UPDATE`,
    );
    if (!found || (!c.includeGone && (found.state === "deleted" || found.expired))) {
      throw new AppError(
        "message_center.message_not_found",
        "No such message in this customer's message center.",
        {
          id,
        },
      );
    }
    if (!c.when(found)) return found;
    const [updated] = await rows<MessageRow>(
      tx,
      sql`UPDATE in_app_messages AS m SET ${c.set}
          WHERE m.workspace_id = ${workspaceId} AND m.id = ${id} RETURNING ${MESSAGE_COLUMNS}`,
    );
    if (!updated) throw new Error("a locked message vanished");
    await c.afterChange?.(tx, found);
    await publishInTransaction(tx, appTopic(workspaceId, customerId), {
      type: "updated",
      id,
      state: updated.state,
      readAt: iso(updated.readAt),
    });
    return updated;
  });
}

/**
 * Marks a message read (an archived one stays archived, with its read time). The first read
 * records the delivery as opened, as a push open or an email open would.
 */
export async function markRead(
  db: Db,
  workspaceId: string,
  customerId: string,
  id: string,
): Promise<InAppMessage> {
  const r = await change(db, workspaceId, customerId, id, {
    set: sql`state = CASE WHEN m.state = 'unread' THEN 'read' ELSE m.state END, read_at = COALESCE(m.read_at, now())`,
    when: (m) => m.readAt === null,
    includeGone: false,
    afterChange: async (tx) => {
      await recordProviderStatus(tx, workspaceId, {
        provider: "in_app",
        providerMessageId: id,
        state: "opened",
        details: { source: "message_center" },
      });
    },
  });
  return presentMessage(r);
}

/** Moves a message out of the inbox; it stays listable with `state=archived`. */
export async function archive(
  db: Db,
  workspaceId: string,
  customerId: string,
  id: string,
): Promise<InAppMessage> {
  const r = await change(db, workspaceId, customerId, id, {
    set: sql`state = 'archived'`,
    when: (m) => m.state !== "archived",
    includeGone: false,
  });
  return presentMessage(r);
}

/** Deletes a message for the customer (kept for agents); deleting it again is no error. */
export async function deleteMessage(
  db: Db,
  workspaceId: string,
  customerId: string,
  id: string,
): Promise<void> {
  await change(db, workspaceId, customerId, id, {
    set: sql`state = 'deleted'`,
    when: (m) => m.state !== "deleted",
    includeGone: true,
  });
}
