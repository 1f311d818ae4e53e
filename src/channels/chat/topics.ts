import { createHash } from "node:crypto";
import type { Db } from "../../db/client.ts";
import { getCustomer } from "../../profiles/customers.ts";
import { publishInTransaction } from "../../realtime/bus.ts";
import { MAX_ENVELOPE_BYTES } from "../../realtime/envelope.ts";

/** How a visitor is addressed: by the browser's anonymous id, or by the brand's (proven) user id. */
export type VisitorAddress = { kind: "anonymous_id" | "user_id"; value: string };

/**
 * The bus topic one visitor address listens on. The kind is part of it, so an anonymous id
 * chosen to equal someone's user id never hears that user's replies; the value is hashed to
 * keep topics short whatever the brand's user ids look like.
 */
export function visitorTopic(workspaceId: string, inboxId: string, address: VisitorAddress): string {
  const digest = createHash("sha256").update(`${address.kind}:${address.value}`).digest("hex").slice(0, 32);
  return `chat:${workspaceId}:${inboxId}:${digest}`;
}

/**
 * How a conversation's contact address (what replies are sent `to`) is to be read: a user id
 * when the conversation's customer holds that user id, else an anonymous id.
 */
export async function addressOf(
  db: Db,
  workspaceId: string,
  customerId: string,
  contactAddress: string,
): Promise<VisitorAddress> {
  const customer = await getCustomer(db, workspaceId, customerId);
  const isUser = customer.identities.some((i) => i.kind === "user_id" && i.value === contactAddress);
  return { kind: isUser ? "user_id" : "anonymous_id", value: contactAddress };
}

/** A message as the widget shows it. */
export type WidgetMessage = {
  id: string;
  conversationId: string;
  /** "inbound": the visitor's; "outbound": the brand's. */
  direction: "inbound" | "outbound";
  text: string;
  /** The delivery carrying an agent's reply: what the widget acknowledges as seen. */
  deliveryId: string | null;
  createdAt: string;
  /** The widget's own id of a visitor's message, so the tab that sent it shows it once. */
  clientId?: string;
  /** The text was too long for the live message: the widget loads the conversation instead. */
  partial?: boolean;
};

/** What the widget's socket carries to a visitor. */
export type WidgetEvent =
  | ({ type: "message" } & WidgetMessage)
  | { type: "typing"; conversationId: string; from: "agent"; typing: boolean };

// room for the envelope around the event (the topic, the JSON keys)
const EVENT_BYTES = MAX_ENVELOPE_BYTES - 600;

/**
 * Tells a visitor's open widgets (any process: through the database's NOTIFY, heard at commit
 * when `db` is a transaction). A message too long for the bus travels without its text, as
 * `partial`: the widget then loads it.
 */
export async function publishToVisitor(
  db: Db,
  workspaceId: string,
  inboxId: string,
  address: VisitorAddress,
  event: WidgetEvent,
): Promise<void> {
  const fits = Buffer.byteLength(JSON.stringify(event), "utf8") <= EVENT_BYTES;
  const live: WidgetEvent = fits || event.type !== "message" ? event : { ...event, text: "", partial: true };
  await publishInTransaction(db, visitorTopic(workspaceId, inboxId, address), live);
}
