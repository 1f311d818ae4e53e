import { z } from "zod";
import { getMessagingSettings } from "../../consent/settings.ts";
import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { replyAddress } from "./reply-address.ts";

// a DNS name of at least two labels: what a mail domain can be
const MAIL_DOMAIN =
  /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * An email inbox's own settings (`inboxes.config` of an `email` inbox). `replyDomain` is the
 * inbound email domain: a domain whose mail reaches Rapport (its MX points to Rapport's SMTP
 * listener, or the relay forwards every address of it). Agents' replies then carry the
 * conversation's `reply+<token>@<replyDomain>` as Reply-To.
 */
export const EmailInboxConfig = z.object({
  replyDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(MAIL_DOMAIN, "must be a mail domain such as reply.brand.example")
    .optional(),
});
export type EmailInboxConfig = z.infer<typeof EmailInboxConfig>;

/**
 * The Reply-To of an agent's email reply in a conversation: its signed `reply+` address on
 * the inbox's inbound email domain, so the customer's answer finds the conversation even when
 * their mail client drops the thread headers. Undefined when the inbox has no such domain
 * (the provider's own Reply-To, if any, applies then).
 */
export async function conversationReplyTo(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  conversationId: string,
): Promise<string | undefined> {
  if (inbox.kind !== "email") return undefined;
  const domain = EmailInboxConfig.safeParse(inbox.config).data?.replyDomain;
  if (domain === undefined) return undefined;
  const settings = await getMessagingSettings(db, workspaceId);
  return replyAddress(settings, conversationId, domain);
}
