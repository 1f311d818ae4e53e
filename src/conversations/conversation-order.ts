import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { ConversationRow } from "./conversations.ts";
import { PRIORITIES } from "./tables.ts";

// The orders of a conversation list and their cursors. A cursor carries its sort and the sort's
// key of the page's last row, so the next page starts exactly after it (keyset, never OFFSET).

export const CONVERSATION_SORTS = ["last_message", "waiting", "created", "priority"] as const;
export type ConversationSort = (typeof CONVERSATION_SORTS)[number];

const PRIORITY_RANK = sql`CASE c.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
  WHEN 'low' THEN 1 ELSE 0 END`;
const Timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)));
const Cursor = z.discriminatedUnion("sort", [
  z.object({ sort: z.enum(["last_message", "waiting", "created"]), at: Timestamp, id: z.uuid() }),
  z.object({
    sort: z.literal("priority"),
    rank: z.number().int().min(0).max(4),
    at: Timestamp,
    id: z.uuid(),
  }),
]);
type Cursor = z.infer<typeof Cursor>;

/** The cursor after this row, in this sort. */
export function encodeCursor(sort: ConversationSort, row: ConversationRow): string {
  const rank = PRIORITIES.indexOf(row.priority);
  const cursor: Cursor =
    sort === "priority"
      ? { sort, rank, at: row.lastMessageAt, id: row.id }
      : {
          sort,
          at:
            sort === "created"
              ? row.createdAt
              : sort === "waiting"
                ? (row.lastCustomerMessageAt ?? row.lastMessageAt)
                : row.lastMessageAt,
          id: row.id,
        };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** The cursor a client sent back, refused when forged, garbled or of another sort. */
export function decodeCursor(text: string, sort: ConversationSort): Cursor {
  let parsed: ReturnType<typeof Cursor.safeParse>;
  try {
    parsed = Cursor.safeParse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
  } catch {
    parsed = Cursor.safeParse(undefined);
  }
  if (!parsed.success) {
    throw new AppError(
      "conversations.invalid_cursor",
      "cursor: not one this API gave out; start again without it.",
    );
  }
  if (parsed.data.sort !== sort) {
    throw new AppError(
      "conversations.cursor_sort_mismatch",
      `cursor: it pages sort=${parsed.data.sort}, not sort=${sort}; start again without it.`,
      { cursorSort: parsed.data.sort, sort },
    );
  }
  return parsed.data;
}

/** ORDER BY and the keyset condition after a cursor, per sort: each stays stable under its own order. */
export function ordering(sort: ConversationSort, after: Cursor | undefined): { where: SQL; order: SQL } {
  const id = after?.id ?? null;
  switch (sort) {
    case "waiting":
      return {
        // the customer spoke last: a note does not move last_message_at, a reply does
        where: sql`AND c.last_customer_message_at IS NOT NULL AND c.last_customer_message_at >= c.last_message_at
          ${after ? sql`AND (c.last_customer_message_at, c.id) > (${after.at}::timestamptz, ${id}::uuid)` : sql``}`,
        order: sql`c.last_customer_message_at ASC, c.id ASC`,
      };
    case "created":
      return {
        where: after ? sql`AND (c.created_at, c.id) < (${after.at}::timestamptz, ${id}::uuid)` : sql``,
        order: sql`c.created_at DESC, c.id DESC`,
      };
    case "priority":
      return {
        where:
          after?.sort === "priority"
            ? sql`AND (${PRIORITY_RANK}, c.last_message_at, c.id) < (${after.rank}::int, ${after.at}::timestamptz, ${id}::uuid)`
            : sql``,
        order: sql`${PRIORITY_RANK} DESC, c.last_message_at DESC, c.id DESC`,
      };
    case "last_message":
      return {
        where: after ? sql`AND (c.last_message_at, c.id) < (${after.at}::timestamptz, ${id}::uuid)` : sql``,
        order: sql`c.last_message_at DESC, c.id DESC`,
      };
  }
}
