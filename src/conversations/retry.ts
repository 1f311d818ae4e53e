import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { requeueFailedDelivery } from "../delivery/requeue.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { publishMessageUpdates } from "./message-updates.ts";

export type RetryResult = { messageId: string; deliveryId: string; deliveryState: string };

/**
 * Sends an agent's reply whose delivery failed once more: the same delivery goes back through
 * the engine (the Gate again, then the provider with the same idempotency key, so a provider
 * that did take the first attempt sends nothing twice). Agents' screens hear `message.updated`.
 */
export async function retryMessage(
  db: Db,
  workspaceId: string,
  conversationId: string,
  messageId: string,
  by: { userId: string | null },
): Promise<RetryResult> {
  for (const [id, what] of [
    [conversationId, "conversation"],
    [messageId, "message"],
  ] as const) {
    if (!isUuid(id))
      throw new AppError("conversations.invalid_id", `"${id}" is not a ${what} id (a UUID).`, { id });
  }
  return transactionWithRetry(db, async (tx) => {
    const [message] = await rows<{ deliveryId: string | null; state: string | null; kind: string }>(
      tx,
      sql`SELECT m.delivery_id::text AS "deliveryId", d.state, m.kind FROM conversation_messages m
          LEFT JOIN deliveries d ON d.workspace_id = m.workspace_id AND d.id = m.delivery_id
          WHERE m.workspace_id = ${workspaceId} AND m.conversation_id = ${conversationId} AND m.id = ${messageId}
          FOR UPDATE OF m`,
    );
    if (!message) {
      throw new AppError(
        "conversations.message_not_found",
        "No message with that id in this conversation of this workspace.",
        { conversationId, messageId },
      );
    }
    const deliveryId = message.deliveryId;
    const requeued = deliveryId
      ? await requeueFailedDelivery(tx, workspaceId, deliveryId, { userId: by.userId, messageId })
      : undefined;
    if (!deliveryId || !requeued) {
      throw new AppError(
        "conversations.not_retryable",
        deliveryId
          ? `Only a reply whose delivery failed can be sent again; this one is ${message.state ?? "unknown"}.`
          : "This message was never sent through a delivery (a note, or the customer's own): nothing to send again.",
        { messageId, deliveryState: message.state },
      );
    }
    await publishMessageUpdates(tx, workspaceId, [{ deliveryId, state: requeued }]);
    return { messageId, deliveryId, deliveryState: requeued };
  });
}
