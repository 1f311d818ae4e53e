import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { conversationsTopic } from "./inbound.ts";

/**
 * Marks a conversation read by an agent now (never moving a later marker back), and tells the
 * agent's other screens. Another workspace's conversation is not found.
 */
export async function markConversationRead(
  db: Db,
  workspaceId: string,
  userId: string,
  conversationId: string,
): Promise<void> {
  if (!isUuid(conversationId)) {
    throw new AppError("conversations.invalid_id", `"${conversationId}" is not a conversation id (a UUID).`, {
      id: conversationId,
    });
  }
  await db.transaction(async (tx) => {
    const marked = await rows<{ at: string }>(
      tx,
      sql`INSERT INTO conversation_reads (workspace_id, user_id, conversation_id, last_read_at)
          SELECT c.workspace_id, ${userId}::uuid, c.id, now() FROM conversations c
          WHERE c.workspace_id = ${workspaceId} AND c.id = ${conversationId}
          ON CONFLICT (workspace_id, user_id, conversation_id)
            DO UPDATE SET last_read_at = GREATEST(conversation_reads.last_read_at, EXCLUDED.last_read_at)
          RETURNING to_json(last_read_at)#>>'{}' AS at`,
    );
    const row = marked[0];
    if (!row) {
      throw new AppError(
        "conversations.conversation_not_found",
        "No conversation with that id in this workspace.",
        { id: conversationId },
      );
    }
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "conversation.read",
      conversationId,
      userId,
      lastReadAt: row.at,
    });
  });
}
