import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { getDelivery } from "../../delivery/deliveries.ts";
import type { Provider } from "../../delivery/providers/types.ts";
import { enqueueEmailFallback } from "./fallback.ts";
import { chatSettings } from "./settings.ts";
import { addressOf, publishToVisitor, type WidgetEvent } from "./topics.ts";

/** The provider kind recorded on deliveries of chat replies. */
export const CHAT_PROVIDER = "chat";

// replies.ts keys a reply's delivery by its message id: the widget shows the same id as history
const REPLY_KEY = /^reply:([0-9a-f-]{36})$/i;

/**
 * Delivers an agent's reply to the chat widget: the reply is published on the visitor's
 * topic (every open widget of theirs shows it at once) and answered as sent, so it went
 * through the Gate and the ledger like any message. An email fallback is scheduled with it,
 * and goes out if the widget has not acknowledged the reply as seen in time.
 */
export function createChatProvider(db: Db, inbox: Inbox): Provider | undefined {
  const settings = chatSettings(inbox);
  return {
    kind: CHAT_PROVIDER,
    async send(message) {
      const delivery = await getDelivery(db, message.workspaceId, message.deliveryId);
      const conversationId = delivery.sourceRef;
      if (!conversationId) {
        return { ok: false, retryable: false, reason: "a chat message must answer a conversation" };
      }
      const address = await addressOf(db, message.workspaceId, message.customerId, message.to);
      const event: WidgetEvent = {
        type: "message",
        id: REPLY_KEY.exec(message.idempotencyKey)?.[1] ?? message.deliveryId,
        conversationId,
        direction: "outbound",
        text: message.content.text,
        deliveryId: message.deliveryId,
        createdAt: new Date().toISOString(),
      };
      // scheduled first: a crash after publishing must not lose the fallback (its key dedupes a retry)
      await enqueueEmailFallback(db, message.workspaceId, message.deliveryId, settings.emailFallbackMinutes);
      await publishToVisitor(db, message.workspaceId, inbox.id, address, event);
      return { ok: true, providerMessageId: message.deliveryId, state: "sent" };
    },
  };
}
