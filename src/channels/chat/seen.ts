import type { Conversation } from "../../conversations/conversations.ts";
import type { Db } from "../../db/client.ts";
import { getDelivery } from "../../delivery/deliveries.ts";
import { recordProviderStatus } from "../../delivery/status.ts";
import { isAppError } from "../../errors.ts";
import { CHAT_PROVIDER } from "./provider.ts";
import { type Visitor, visibleConversation } from "./visitor.ts";

export type SeenResult = {
  /** Replies now recorded as seen (the delivery `opened`), or seen before. */
  recorded: string[];
  /** Replies the widget shows while the engine has not recorded them as sent yet: ask again shortly. */
  pending: string[];
};

/**
 * The widget's acknowledgement of replies it displayed to the visitor: each one's delivery
 * moves to `opened` in the ledger (so agents see it was read, and no email fallback goes out).
 * Deliveries that are not replies of the visitor's own conversations are ignored.
 */
export async function markSeen(
  db: Db,
  visitor: Visitor,
  deliveryIds: readonly string[],
): Promise<SeenResult> {
  const out: SeenResult = { recorded: [], pending: [] };
  const visible = new Map<string, Conversation | null>();
  for (const id of new Set(deliveryIds)) {
    const delivery = await getDelivery(db, visitor.workspaceId, id).catch((err: unknown) => {
      if (isAppError(err)) return undefined;
      throw err;
    });
    if (!delivery?.sourceRef || delivery.channel !== "in_app") continue;
    const ref = delivery.sourceRef;
    if (!visible.has(ref)) {
      visible.set(
        ref,
        await visibleConversation(db, visitor, ref).catch((err: unknown) => {
          if (isAppError(err)) return null;
          throw err;
        }),
      );
    }
    if (!visible.get(ref)) continue;
    if (delivery.provider === CHAT_PROVIDER && delivery.providerMessageId) {
      await recordProviderStatus(db, visitor.workspaceId, {
        provider: CHAT_PROVIDER,
        providerMessageId: delivery.providerMessageId,
        state: "opened",
        details: { source: "widget" },
      });
      out.recorded.push(id);
    } else if (delivery.state === "queued" || delivery.state === "sending") {
      // the widget can show a reply a moment before the engine commits that it was sent
      out.pending.push(id);
    }
  }
  return out;
}
