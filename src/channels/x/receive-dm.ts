import { receiveInbound } from "../../conversations/inbound.ts";
import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { ignored, stored, type XItemOutcome } from "./outcome.ts";
import type { XDmEvent, XWebhook } from "./payload.ts";
import { conversationOnThread, customerOfXUser, replyInFlight, sentByRapport } from "./threads.ts";
import { dmContent } from "./tweet-text.ts";

type Opts = { defaultCountry: string };

/** DMs keep one conversation per customer and inbox: their thread key. */
export const DM_THREAD = "dm";

function timeOf(event: XDmEvent): Date | undefined {
  if (!event.created_timestamp) return undefined;
  const at = new Date(Number(event.created_timestamp));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** What agents see of a DM besides its text: who, from which app, what started it, its media. */
function dmDetails(event: XDmEvent, payload: XWebhook) {
  const mc = event.message_create;
  const app = mc?.source_app_id ? payload.apps?.[mc.source_app_id] : undefined;
  const data = mc?.message_data;
  return {
    eventId: event.id,
    senderId: mc?.sender_id ?? null,
    recipientId: mc?.target.recipient_id ?? null,
    sourceApp: app ? { id: app.id, name: app.name } : null,
    initiatedVia: event.initiated_via ?? null,
    quickReply: data?.quick_reply_response ?? null,
    urls: (data?.entities?.urls ?? []).map((u) => ({ url: u.url, expandedUrl: u.expanded_url ?? null })),
    media: dmContent(event).media,
  };
}

/**
 * Takes in one event of `direct_message_events`. A DM sent to the brand becomes an inbound
 * message of the customer's one DM conversation (thread `dm`); replies go back as DMs by
 * default, so it sets no `replyTo`. The sender's name and handle come from the post's
 * `users`. The brand's own DMs go to `receiveBrandDm`; other event types are ignored.
 */
export async function receiveDm(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  brandId: string,
  event: XDmEvent,
  payload: XWebhook,
  opts: Opts,
): Promise<XItemOutcome> {
  const mc = event.message_create;
  if (event.type !== "message_create" || !mc) return ignored("dm", event.id, `a ${event.type} event`);
  if (mc.sender_id === brandId) return receiveBrandDm(db, workspaceId, inbox, event, payload, opts);
  if (mc.target.recipient_id !== brandId) return ignored("dm", event.id, "not sent to the brand");
  const sender = payload.users?.[mc.sender_id];
  const result = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      from: [
        { kind: "x_id", value: mc.sender_id },
        ...(sender ? [{ kind: "x_handle" as const, value: sender.screen_name }] : []),
      ],
      contactAddress: mc.sender_id,
      ...(sender?.name ? { traits: { name: sender.name } } : {}),
      providerMessageId: event.id,
      text: dmContent(event).text,
      threadKey: DM_THREAD,
      metadata: {
        channel: "x",
        kind: "dm",
        from: { id: mc.sender_id, screenName: sender?.screen_name ?? null, name: sender?.name ?? null },
        dm: dmDetails(event, payload),
      },
      receivedAt: timeOf(event),
    },
    { ...opts, inbox },
  );
  return stored("dm", event.id, "inbound", result);
}

/**
 * The brand's own DM. One Rapport sent (by its delivery, or being sent now) is skipped; one
 * written elsewhere to a customer who has a DM conversation on this inbox is stored there as
 * an outbound message; anything else opens nothing.
 */
async function receiveBrandDm(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  event: XDmEvent,
  payload: XWebhook,
  opts: Opts,
): Promise<XItemOutcome> {
  const recipient = event.message_create?.target.recipient_id;
  if (!recipient) return ignored("dm", event.id, "no recipient");
  if (await sentByRapport(db, workspaceId, event.id)) return ignored("dm", event.id, "sent by Rapport");
  const customerId = await customerOfXUser(db, workspaceId, recipient);
  if (!customerId) return ignored("dm", event.id, "to someone without a conversation");
  const text = dmContent(event).text;
  // any reply of this inbox counts: a private answer to a mention goes out as a DM too
  if (await replyInFlight(db, workspaceId, inbox.id, customerId, text)) {
    return ignored("dm", event.id, "sent by Rapport");
  }
  const thread = await conversationOnThread(db, workspaceId, inbox.id, customerId, DM_THREAD);
  if (!thread) return ignored("dm", event.id, "to someone without a DM conversation");
  const result = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      direction: "outbound",
      from: [{ kind: "x_id", value: recipient }],
      providerMessageId: event.id,
      text,
      threadKey: DM_THREAD,
      metadata: { channel: "x", kind: "brand_dm", elsewhere: true, dm: dmDetails(event, payload) },
      receivedAt: timeOf(event),
    },
    { ...opts, inbox },
  );
  return stored("dm", event.id, "outbound", result);
}
