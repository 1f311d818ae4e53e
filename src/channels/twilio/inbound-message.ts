import { z } from "zod";
import type { AttachmentStore } from "../../conversations/attachments.ts";
import { findByProviderId, type InboundResult, receiveInbound } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import type { TwilioParams } from "../../delivery/providers/twilio.ts";
import { AppError, isAppError } from "../../errors.ts";
import { getWorkspace } from "../../platform/workspaces.ts";
import { normalizePhone } from "../../profiles/identifiers.ts";
import { TWILIO_MESSAGE_KINDS, twilioInboxConfigOf } from "./config.ts";
import { detectKeyword, keywordReply, twiml } from "./keywords.ts";
import { fetchTwilioMedia, type TwilioMedia } from "./media.ts";
import { applySmsKeyword } from "./sms-keywords.ts";
import { bareAddress, requireInboxNumber, type TwilioRequest, verifyTwilioRequest } from "./verify.ts";

// Twilio sends at most 10 media items with one message
const MAX_MEDIA = 10;

/** The fields of Twilio's incoming-message webhook that Rapport reads (others are kept as sent). */
export const TwilioInboundMessage = z.object({
  MessageSid: z.string().trim().min(1).max(64),
  AccountSid: z.string().min(1),
  MessagingServiceSid: z.string().min(1).optional(),
  From: z.string().trim().min(1).max(100),
  To: z.string().trim().min(1).max(100),
  Body: z.string().max(100_000).default(""),
  NumMedia: z.coerce.number().int().min(0).max(MAX_MEDIA).default(0),
  ProfileName: z.string().trim().max(200).optional(),
  WaId: z
    .string()
    .regex(/^\d{4,15}$/, "must be the sender's WhatsApp id: digits of their number")
    .optional(),
});
export type TwilioInboundMessage = z.infer<typeof TwilioInboundMessage>;

function single(params: TwilioParams, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The message's media items (`MediaUrl{N}`, `MediaContentType{N}`), in order. */
export function mediaItems(params: TwilioParams, count: number): TwilioMedia[] {
  const items: TwilioMedia[] = [];
  for (let index = 0; index < Math.min(count, MAX_MEDIA); index++) {
    const url = single(params, `MediaUrl${index}`);
    if (url) items.push({ index, url, contentType: single(params, `MediaContentType${index}`) });
  }
  return items;
}

/** Reads a verified post's fields; a post Twilio would never send gets a 400 naming the field. */
export function parseTwilioMessage(params: TwilioParams): TwilioInboundMessage {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = TwilioInboundMessage.safeParse(flat);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "twilio.invalid_message",
      `Not a Twilio incoming message: ${issue?.path.join(".") || "form"} ${issue?.message ?? "is invalid"}.`,
      { field: issue?.path.join(".") },
    );
  }
  return parsed.data;
}

export type TwilioMessageOutcome = InboundResult & {
  channel: "sms" | "whatsapp";
  keyword?: string | undefined;
  /** The TwiML to answer Twilio with (the keyword's confirmation, or nothing). */
  twiml: string;
};

/**
 * Takes in Twilio's incoming-message webhook for one inbox: verifies it (signature over the
 * public URL, account, number or Messaging Service pool), fetches its media, stores the
 * message through `receiveInbound` (once per MessageSid), applies STOP/START/HELP to consent,
 * and returns the TwiML carriers expect. Nothing is stored when verification fails.
 */
export async function receiveTwilioMessage(
  db: Db,
  workspaceId: string,
  inboxId: string,
  request: TwilioRequest,
  opts: { defaultCountry: string; store: AttachmentStore; mediaTimeoutMs?: number },
): Promise<TwilioMessageOutcome> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  const config = twilioInboxConfigOf(inbox, TWILIO_MESSAGE_KINDS);
  const params = verifyTwilioRequest(config, request);
  const msg = parseTwilioMessage(params);
  requireInboxNumber(inbox, config, msg.To, msg.MessagingServiceSid);
  const channel = /^whatsapp:/i.test(msg.From) ? "whatsapp" : "sms";
  let number: string;
  try {
    number = normalizePhone(bareAddress(msg.From), opts.defaultCountry);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(
      "twilio.invalid_from",
      `From "${msg.From}" is not a phone number; Twilio sends the sender as E.164 (+14155550123), with a whatsapp: prefix for WhatsApp.`,
      { from: msg.From },
    );
  }
  // media is fetched before the transaction: no network I/O may hold it open
  const media = mediaItems(params, msg.NumMedia);
  // a replayed message was stored with its media the first time: fetch nothing again
  const replay = media.length > 0 && (await findByProviderId(db, workspaceId, inbox.id, msg.MessageSid));
  const fetched =
    media.length > 0 && !replay
      ? await fetchTwilioMedia(opts.store, workspaceId, media, config, {
          ...(opts.mediaTimeoutMs !== undefined ? { timeoutMs: opts.mediaTimeoutMs } : {}),
        })
      : { attachments: [], failures: [] };
  const keyword = detectKeyword(msg.Body);
  const result = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      from: [
        { kind: "phone", value: number },
        ...(channel === "whatsapp" && msg.WaId
          ? [{ kind: "whatsapp_id" as const, value: `+${msg.WaId}` }]
          : []),
      ],
      contactAddress: number,
      ...(msg.ProfileName ? { traits: { name: msg.ProfileName } } : {}),
      providerMessageId: msg.MessageSid,
      text: msg.Body,
      attachments: fetched.attachments,
      metadata: {
        channel,
        from: msg.From,
        to: msg.To,
        ...(msg.MessagingServiceSid ? { messagingServiceSid: msg.MessagingServiceSid } : {}),
        ...(msg.WaId ? { waId: msg.WaId } : {}),
        ...(msg.ProfileName ? { profileName: msg.ProfileName } : {}),
        numMedia: msg.NumMedia,
        ...(keyword ? { keyword: keyword.keyword } : {}),
        ...(fetched.failures.length > 0 ? { mediaFailures: fetched.failures } : {}),
      },
    },
    { defaultCountry: opts.defaultCountry, inbox },
  );
  if (!keyword) return { ...result, channel, twiml: twiml() };
  await applySmsKeyword(db, workspaceId, {
    customerId: result.customerId,
    channel,
    number,
    action: keyword.action,
    keyword: keyword.keyword,
    messageSid: msg.MessageSid,
    duplicate: result.duplicate,
  });
  const brand = (await getWorkspace(db, workspaceId))?.name ?? "our";
  return { ...result, channel, keyword: keyword.keyword, twiml: twiml(keywordReply(keyword.action, brand)) };
}
