import { createChatProvider } from "../../channels/chat/provider.ts";
import { createMetaProvider } from "../../channels/meta/provider.ts";
import { createXProvider } from "../../channels/x/provider.ts";
import type { Channel } from "../../consent/tables.ts";
import { getInbox, type Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { providerFor } from "./registry.ts";
import type { Provider } from "./types.ts";

// providers keep tokens and pools: one per inbox and settings version
const cache = new Map<string, Provider>();

/**
 * The provider that sends a reply through a conversation's own inbox: the Facebook page or
 * Instagram account, the X account, the chat widget. An inbox whose kind sends through the
 * workspace's channel provider (email, SMS, WhatsApp), or that holds no credentials yet (a
 * demo page), uses the channel's provider (the sandbox when none is configured).
 */
export async function providerForInbox(
  db: Db,
  workspaceId: string,
  inboxId: string,
  channel: Channel,
): Promise<Provider> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  const key = `${workspaceId}|${inbox.id}|${inbox.updatedAt}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const own = ownProvider(db, inbox);
  if (!own) return providerFor(db, workspaceId, channel);
  if (cache.size > 1000) cache.clear();
  cache.set(key, own);
  return own;
}

function ownProvider(db: Db, inbox: Inbox): Provider | undefined {
  switch (inbox.kind) {
    case "messenger":
    case "instagram":
      return createMetaProvider(inbox);
    case "x":
      return createXProvider(inbox);
    case "chat":
      return createChatProvider(db, inbox);
    default:
      return undefined;
  }
}
