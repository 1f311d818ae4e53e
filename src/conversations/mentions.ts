import type { Db } from "../db/client.ts";

/** Records the agents a private note names (`@name`), so each sees it in their mentions. */
export async function recordMentions(
  _tx: Db,
  _workspaceId: string,
  _note: { conversationId: string; messageId: string; authorId: string | null; text: string },
): Promise<void> {}
