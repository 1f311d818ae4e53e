import { createChatProvider } from "../../channels/chat/provider.ts";
import { createMetaProvider } from "../../channels/meta/provider.ts";
import { TwilioInboxConfig } from "../../channels/twilio/config.ts";
import { createXProvider } from "../../channels/x/provider.ts";
import type { Channel } from "../../consent/tables.ts";
import { getInbox, type Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { configuredProvider, providerFor } from "./registry.ts";
import { createSandboxProvider } from "./sandbox.ts";
import { createTwilioProvider, TwilioConfig } from "./twilio.ts";
import type { Provider } from "./types.ts";

// providers keep tokens and pools: one per inbox and settings version
const cache = new Map<string, Provider>();

/**
 * The provider that sends a reply through a conversation's own inbox: the Facebook page or
 * Instagram account, the X account, the chat widget. An inbox whose kind sends through the
 * workspace's channel provider (email, SMS, WhatsApp), or that holds no credentials yet (a
 * demo page), uses the channel's provider (the sandbox when none is configured). An inbox whose
 * config says `sandbox: true` (the demo workspace's) always sends to the sandbox outbox, whatever
 * providers the workspace has.
 */
export async function providerForInbox(
  db: Db,
  workspaceId: string,
  inboxId: string,
  channel: Channel,
): Promise<Provider> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  if (inbox.config.sandbox === true) return createSandboxProvider();
  if (inbox.kind === "sms" || inbox.kind === "whatsapp")
    return twilioFromInbox(db, workspaceId, inbox, channel);
  const key = `${workspaceId}|${inbox.id}|${inbox.updatedAt}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const own = ownProvider(db, inbox);
  if (!own) return providerFor(db, workspaceId, channel);
  if (cache.size > 1000) cache.clear();
  cache.set(key, own);
  return own;
}

/**
 * A reply on an SMS or WhatsApp inbox leaves from the number the customer wrote to: the
 * workspace's Twilio provider for the channel, sending from the inbox's number (or its
 * Messaging Service) when the inbox belongs to the same Twilio account. Anything else (another
 * account, no Twilio provider, the sandbox) sends as the channel's provider does.
 */
async function twilioFromInbox(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  channel: Channel,
): Promise<Provider> {
  const configured = await configuredProvider(db, workspaceId, channel);
  const account = TwilioInboxConfig.safeParse(inbox.config);
  const base = configured?.kind === "twilio" ? TwilioConfig.safeParse(configured.config) : undefined;
  if (!configured || !base?.success || !account.success || account.data.accountSid !== base.data.accountSid) {
    return providerFor(db, workspaceId, channel);
  }
  const key = `${workspaceId}|${inbox.id}|${inbox.updatedAt}|${configured.version}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const number = inbox.address && E164.test(inbox.address) ? inbox.address : undefined;
  const pool = account.data.messagingServiceSid;
  const sender: Partial<TwilioConfig> =
    channel === "whatsapp"
      ? number
        ? { whatsappFrom: number }
        : {}
      : pool
        ? { messagingServiceSid: pool, from: undefined }
        : number
          ? { from: number, messagingServiceSid: undefined }
          : {};
  const provider = createTwilioProvider(
    TwilioConfig.parse({ ...base.data, ...sender }),
    channel === "whatsapp" ? "whatsapp" : "sms",
  );
  if (cache.size > 1000) cache.clear();
  cache.set(key, provider);
  return provider;
}

const E164 = /^\+[1-9]\d{1,14}$/;

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
