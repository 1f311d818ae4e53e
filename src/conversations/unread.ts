import { type SQL, sql } from "drizzle-orm";

// Unread markers: each agent's last read of each conversation. A conversation is unread for an
// agent while the customer wrote after that agent last opened it (or the agent never did).

/**
 * The LEFT JOIN of the viewer's read marker onto conversations aliased `c` (as `r`). Without a
 * viewer (a secret key is nobody) the join finds nothing: every conversation the customer
 * wrote in counts as unread.
 */
export function readJoin(viewer: { userId: string } | undefined): SQL {
  return sql`LEFT JOIN conversation_reads r ON r.workspace_id = c.workspace_id AND r.conversation_id = c.id
    AND r.user_id = ${viewer?.userId ?? null}::uuid`;
}

/** The boolean expression "unread for the viewer", over `c` and the `r` of `readJoin`. */
export const UNREAD = sql`(c.last_customer_message_at IS NOT NULL
  AND (r.last_read_at IS NULL OR c.last_customer_message_at > r.last_read_at))`;
