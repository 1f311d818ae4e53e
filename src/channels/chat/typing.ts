import { getConversation } from "../../conversations/conversations.ts";
import { conversationsTopic } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { publishInTransaction } from "../../realtime/bus.ts";
import { addressOf, publishToVisitor } from "./topics.ts";
import { type Visitor, visibleConversation } from "./visitor.ts";

/**
 * An agent starts or stops typing in a conversation: other agents hear it on the workspace's
 * feed, and, on a chat conversation, the visitor's widget shows "typing…".
 */
export async function agentTyping(
  db: Db,
  workspaceId: string,
  conversationId: string,
  userId: string | null,
  typing: boolean,
): Promise<void> {
  const conversation = await getConversation(db, workspaceId, conversationId);
  await publishInTransaction(db, conversationsTopic(workspaceId), {
    type: "typing",
    conversationId,
    from: "agent",
    userId,
    typing,
  });
  if (!conversation.contactAddress) return;
  const inbox = await getInbox(db, workspaceId, conversation.inboxId);
  if (inbox.kind !== "chat") return;
  const address = await addressOf(db, workspaceId, conversation.customerId, conversation.contactAddress);
  await publishToVisitor(db, workspaceId, inbox.id, address, {
    type: "typing",
    conversationId,
    from: "agent",
    typing,
  });
}

/** A visitor starts or stops typing: the agents' feed shows it on the conversation. */
export async function visitorTyping(
  db: Db,
  visitor: Visitor,
  conversationId: string,
  typing: boolean,
): Promise<void> {
  await visibleConversation(db, visitor, conversationId);
  await publishInTransaction(db, conversationsTopic(visitor.workspaceId), {
    type: "typing",
    conversationId,
    from: "customer",
    typing,
  });
}
