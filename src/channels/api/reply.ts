import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";

/** Queues an agent's reply on an API inbox for the source's own webhook, in the reply's transaction. */
export async function queueApiChannelReply(
  _tx: Db,
  _workspaceId: string,
  _inbox: Inbox,
  _reply: {
    conversationId: string;
    messageId: string;
    customerId: string;
    authorId: string | null;
    text: string;
    html: string | null;
  },
): Promise<void> {}
