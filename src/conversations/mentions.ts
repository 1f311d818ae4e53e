import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { conversationsTopic } from "./inbound.ts";

// What the composer inserts when an agent picks someone from the @ list: exact, whatever the names.
const TOKEN = /@\[[^\]\n]{0,200}\]\(user:([0-9a-fA-F-]{36})\)/g;
// What an agent types by hand: `@ada` or `@ada.lovelace`, never the middle of an email address.
const HANDLE = /(?<![\p{L}\p{N}._+@-])@([\p{L}\p{N}][\p{L}\p{N}._+-]{0,63})/gu;
// a note naming more people than this is a broadcast, not a mention
const MAX_MENTIONS = 50;

/** The user ids and the hand-typed handles (lower case) a note names. */
export function parseMentions(text: string): { userIds: string[]; handles: string[] } {
  const userIds = new Set<string>();
  for (const m of text.matchAll(TOKEN)) if (m[1] && isUuid(m[1])) userIds.add(m[1].toLowerCase());
  const handles = new Set<string>();
  for (const m of text.replace(TOKEN, " ").matchAll(HANDLE)) {
    // "@ada." ends a sentence: the dot is not part of the name
    const handle = m[1]?.replace(/[._+-]+$/, "").toLowerCase();
    if (handle) handles.add(handle);
  }
  return { userIds: [...userIds], handles: [...handles] };
}

/**
 * Records the agents a private note names, so each sees it in their mentions, and tells their
 * screens on the bus. A composer token (`@[Ada](user:<id>)`) names a user exactly; a typed
 * `@handle` names the one active user whose email starts with it (`ada@…`), else the one whose
 * first name it is; a handle that fits several people names nobody. Only active users of the
 * workspace count, and never the note's author. Runs in the note's transaction.
 */
export async function recordMentions(
  tx: Db,
  workspaceId: string,
  note: { conversationId: string; messageId: string; authorId: string | null; text: string },
): Promise<string[]> {
  const { userIds, handles } = parseMentions(note.text);
  if (userIds.length === 0 && handles.length === 0) return [];
  const candidates = await rows<{ id: string; local: string; first: string }>(
    tx,
    sql`SELECT id::text AS id, lower(split_part(email, '@', 1)) AS local,
          lower(split_part(btrim(name), ' ', 1)) AS first
        FROM users WHERE workspace_id = ${workspaceId} AND status = 'active'
          AND (id::text IN (SELECT jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb))
            OR lower(split_part(email, '@', 1)) IN (SELECT jsonb_array_elements_text(${JSON.stringify(handles)}::jsonb))
            OR lower(split_part(btrim(name), ' ', 1)) IN (SELECT jsonb_array_elements_text(${JSON.stringify(handles)}::jsonb)))`,
  );
  const named = new Set(candidates.filter((c) => userIds.includes(c.id)).map((c) => c.id));
  for (const handle of handles) {
    const byEmail = candidates.filter((c) => c.local === handle);
    const byName = candidates.filter((c) => c.first === handle);
    const only =
      byEmail.length === 1 ? byEmail[0] : byEmail.length === 0 && byName.length === 1 ? byName[0] : undefined;
    if (only) named.add(only.id);
  }
  if (note.authorId) named.delete(note.authorId);
  const mentioned = [...named].slice(0, MAX_MENTIONS);
  if (mentioned.length === 0) return [];
  const inserted = await rows<{ userId: string }>(
    tx,
    sql`INSERT INTO conversation_mentions (workspace_id, user_id, message_id, conversation_id, author_id)
        SELECT ${workspaceId}, u::uuid, ${note.messageId}, ${note.conversationId}, ${note.authorId}
        FROM jsonb_array_elements_text(${JSON.stringify(mentioned)}::jsonb) AS u
        ON CONFLICT DO NOTHING RETURNING user_id::text AS "userId"`,
  );
  // every agent of the workspace sees private notes, so the workspace's feed reveals nothing new;
  // each screen keeps the mentions of its own user
  for (const { userId } of inserted) {
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "mention.created",
      userId,
      messageId: note.messageId,
      conversationId: note.conversationId,
      authorId: note.authorId,
    });
  }
  return inserted.map((i) => i.userId);
}

export const MentionFilter = z.object({
  unread: z
    .enum(["true", "false"])
    .optional()
    .describe("true: only those not read yet; false: only those read."),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
export type MentionFilter = z.input<typeof MentionFilter>;

export type Mention = {
  messageId: string;
  conversationId: string;
  conversationNumber: number;
  authorId: string | null;
  authorName: string | null;
  /** The note's first 280 characters. */
  excerpt: string;
  createdAt: string;
  readAt: string | null;
};

/**
 * A user's mentions: unread first, then newest first, with a cursor; and how many are unread
 * (the badge). A mention follows its note into the conversation it was merged into.
 */
export async function listMentions(
  db: Db,
  workspaceId: string,
  userId: string,
  filter: MentionFilter,
): Promise<{ data: Mention[]; nextCursor: string | null; unreadCount: number }> {
  const f = MentionFilter.parse(filter);
  const after = f.cursor === undefined ? undefined : readCursor(f.cursor);
  const found = await rows<Mention & { read: number }>(
    db,
    sql`SELECT mn.message_id::text AS "messageId", m.conversation_id::text AS "conversationId",
          c.number AS "conversationNumber", mn.author_id::text AS "authorId", u.name AS "authorName",
          left(m.text, 280) AS excerpt, to_json(mn.created_at)#>>'{}' AS "createdAt",
          to_json(mn.read_at)#>>'{}' AS "readAt", (mn.read_at IS NOT NULL)::int AS read
        FROM conversation_mentions mn
        JOIN conversation_messages m ON m.workspace_id = mn.workspace_id AND m.id = mn.message_id
        JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        LEFT JOIN users u ON u.workspace_id = mn.workspace_id AND u.id = mn.author_id
        WHERE mn.workspace_id = ${workspaceId} AND mn.user_id = ${userId}
          ${f.unread === "true" ? sql`AND mn.read_at IS NULL` : f.unread === "false" ? sql`AND mn.read_at IS NOT NULL` : sql``}
          ${
            after
              ? sql`AND ((mn.read_at IS NOT NULL)::int > ${after.read}
                  OR ((mn.read_at IS NOT NULL)::int = ${after.read}
                    AND (mn.created_at, mn.message_id) < (${after.at}::timestamptz, ${after.id}::uuid)))`
              : sql``
          }
        ORDER BY (mn.read_at IS NOT NULL), mn.created_at DESC, mn.message_id DESC LIMIT ${f.limit + 1}`,
  );
  const [count] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM conversation_mentions
        WHERE workspace_id = ${workspaceId} AND user_id = ${userId} AND read_at IS NULL`,
  );
  const page = found.slice(0, f.limit);
  const last = page.at(-1);
  const nextCursor =
    found.length > f.limit && last
      ? Buffer.from(`${last.read}|${last.createdAt}|${last.messageId}`).toString("base64url")
      : null;
  return {
    data: page.map(({ read: _read, ...m }) => m),
    nextCursor,
    unreadCount: count?.n ?? 0,
  };
}

function readCursor(cursor: string): { read: number; at: string; id: string } {
  const [read, at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if ((read !== "0" && read !== "1") || !at || Number.isNaN(Date.parse(at)) || !id || !isUuid(id)) {
    throw new AppError(
      "conversations.invalid_cursor",
      "The cursor is not one this API gave out; start again without it.",
    );
  }
  return { read: Number(read), at, id };
}

/**
 * Marks the user's mention in a note read (once: reading again keeps the first time), and
 * tells their other screens. Someone else's mention is not found.
 */
export async function markMentionRead(
  db: Db,
  workspaceId: string,
  userId: string,
  messageId: string,
): Promise<{ messageId: string; readAt: string }> {
  if (!isUuid(messageId)) {
    throw new AppError("conversations.invalid_id", `"${messageId}" is not a message id (a UUID).`, {
      id: messageId,
    });
  }
  return db.transaction(async (tx) => {
    const [row] = await rows<{ readAt: string; conversationId: string }>(
      tx,
      sql`UPDATE conversation_mentions SET read_at = COALESCE(read_at, now())
          WHERE workspace_id = ${workspaceId} AND user_id = ${userId} AND message_id = ${messageId}
          RETURNING to_json(read_at)#>>'{}' AS "readAt", conversation_id::text AS "conversationId"`,
    );
    if (!row) {
      throw new AppError("conversations.mention_not_found", "You are not mentioned in a note with that id.", {
        messageId,
      });
    }
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "mention.read",
      userId,
      messageId,
      conversationId: row.conversationId,
    });
    return { messageId, readAt: row.readAt };
  });
}
