import type { Inbox } from "../../conversations/inboxes.ts";
import type { Provider } from "../../delivery/providers/types.ts";

/** Sends public replies and DMs through an X-API-shaped endpoint; undefined without credentials. */
export function createXProvider(_inbox: Inbox): Provider | undefined {
  return undefined;
}
