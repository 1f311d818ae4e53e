import { randomBytes } from "node:crypto";
import { createInbox, type Inbox } from "../conversations/inboxes.ts";
import type { Db } from "../db/client.ts";

/** The demo brand's Facebook page, Instagram account and X account ids (as Meta and X send them). */
export const DEMO_PAGE_ID = "109876543210987";
export const DEMO_INSTAGRAM_ID = "17841400000000001";
export const DEMO_X_USER_ID = "1372648374726402050";
export const DEMO_SMS_NUMBER = "+14155550100";
export const DEMO_WHATSAPP_NUMBER = "+14155550101";
export const DEMO_EMAIL_ADDRESS = "support@melodia.example";

export type DemoInboxes = {
  sms: Inbox;
  whatsapp: Inbox;
  email: Inbox;
  messenger: Inbox;
  instagram: Inbox;
  chat: Inbox;
  x: Inbox;
};

const secret = () => randomBytes(18).toString("base64url");
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/**
 * The demo workspace's inboxes, one per channel. Each holds webhook secrets of its own (so the
 * customer simulator can sign as Twilio, Meta or X do) and no sending credentials; `sandbox`
 * sends every reply to the sandbox outbox, whatever providers are configured later. The chat
 * widget answers through the widget itself.
 */
export async function createDemoInboxes(db: Db, workspaceId: string): Promise<DemoInboxes> {
  const twilio = { accountSid: `AC${hex(16)}`, authToken: secret(), sandbox: true };
  const meta = () => ({ appSecret: secret(), verifyToken: secret(), sandbox: true });
  // one after another: inbox ids are ordered, and the list shows them in this order
  const email = await createInbox(db, workspaceId, {
    kind: "email",
    name: "Support email",
    address: DEMO_EMAIL_ADDRESS,
    config: { sandbox: true },
  });
  const chat = await createInbox(db, workspaceId, {
    kind: "chat",
    name: "Website chat",
    config: { greeting: { en: "Hi! Questions about Melodia? We usually answer within minutes." } },
  });
  const sms = await createInbox(db, workspaceId, {
    kind: "sms",
    name: "SMS",
    address: DEMO_SMS_NUMBER,
    config: twilio,
  });
  const whatsapp = await createInbox(db, workspaceId, {
    kind: "whatsapp",
    name: "WhatsApp",
    address: DEMO_WHATSAPP_NUMBER,
    config: twilio,
  });
  const messenger = await createInbox(db, workspaceId, {
    kind: "messenger",
    name: "Facebook: Melodia",
    address: DEMO_PAGE_ID,
    config: meta(),
  });
  const instagram = await createInbox(db, workspaceId, {
    kind: "instagram",
    name: "Instagram: @melodia",
    address: DEMO_INSTAGRAM_ID,
    config: meta(),
  });
  const x = await createInbox(db, workspaceId, {
    kind: "x",
    name: "X: @MelodiaCares",
    address: "@MelodiaCares",
    config: { consumerSecret: secret(), userId: DEMO_X_USER_ID, sandbox: true },
  });
  return { sms, whatsapp, email, messenger, instagram, chat, x };
}
