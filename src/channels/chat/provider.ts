import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import type { Provider } from "../../delivery/providers/types.ts";

/** Delivers an agent's reply to the chat widget. */
export function createChatProvider(_db: Db, _inbox: Inbox): Provider | undefined {
  return undefined;
}
