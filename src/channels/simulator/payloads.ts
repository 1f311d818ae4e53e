import { createHash, randomBytes } from "node:crypto";
import type { Inbox } from "../../conversations/inboxes.ts";
import { twilioSignature } from "../../delivery/providers/twilio.ts";
import { uuidv7 } from "../../ids.ts";
import type { TwilioInboxConfig } from "../twilio/config.ts";

/** A request for one of Rapport's own webhook routes, as the provider would send it. */
export type WebhookRequest = {
  path: string;
  headers: Record<string, string>;
  payload: string;
  /** The provider's id of the message it carries: how the stored message is found afterwards. */
  providerMessageId: string;
};

/** A stable numeric id from a string (X user ids for handles): the same sender is the same id. */
export function numericId(seed: string, length: number): string {
  const n = BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 16)}`).toString();
  return `1${n}`.padEnd(length, "0").slice(0, length);
}

/** Twilio's incoming-message post for an SMS or WhatsApp inbox, signed with the inbox's auth token. */
export function twilioMessage(
  workspaceId: string,
  inbox: Inbox,
  config: TwilioInboxConfig,
  m: { phone: string; name?: string | undefined; text: string; publicUrl: string },
): WebhookRequest {
  const wa = inbox.kind === "whatsapp";
  const sid = `SM${uuidv7().replaceAll("-", "")}`;
  const own = inbox.address ?? config.numbers?.[0] ?? "";
  const form: Record<string, string> = {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    AccountSid: config.accountSid,
    ...(config.messagingServiceSid ? { MessagingServiceSid: config.messagingServiceSid } : {}),
    From: wa ? `whatsapp:${m.phone}` : m.phone,
    To: wa ? `whatsapp:${own}` : own,
    Body: m.text,
    NumMedia: "0",
    NumSegments: "1",
    SmsStatus: "received",
    ApiVersion: "2010-04-01",
    ...(wa ? { WaId: m.phone.slice(1), MessageType: "text" } : {}),
    ...(wa && m.name ? { ProfileName: m.name } : {}),
  };
  const path = `/webhooks/twilio/${workspaceId}/inbox/${inbox.id}`;
  const url = `${m.publicUrl.replace(/\/$/, "")}${path}`;
  return {
    path,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilioSignature(config.authToken, url, form),
    },
    payload: new URLSearchParams(form).toString(),
    providerMessageId: sid,
  };
}

/**
 * Meta's webhook post for a Messenger or Instagram inbox: a direct message, or a comment under
 * a post (`postId`), as Meta shapes them (the signature is added by the caller).
 */
export function metaBody(
  inbox: Inbox,
  m: {
    contactId: string;
    name?: string | undefined;
    text: string;
    postId?: string | undefined;
    nowMs: number;
  },
): { body: unknown; providerMessageId: string } {
  const ig = inbox.kind === "instagram";
  const own = inbox.address ?? "1";
  const object = ig ? "instagram" : "page";
  if (!m.postId) {
    const mid = `m_${randomBytes(30).toString("base64url")}`;
    return {
      providerMessageId: mid,
      body: {
        object,
        entry: [
          {
            id: own,
            time: m.nowMs,
            messaging: [
              {
                sender: { id: m.contactId },
                recipient: { id: own },
                timestamp: m.nowMs,
                message: { mid, text: m.text },
              },
            ],
          },
        ],
      },
    };
  }
  const seconds = Math.floor(m.nowMs / 1000);
  if (ig) {
    const id = numericId(`comment-${uuidv7()}`, 17);
    const username = usernameOf(m.name, m.contactId);
    return {
      providerMessageId: id,
      body: {
        object,
        entry: [
          {
            id: own,
            time: seconds,
            changes: [
              {
                field: "comments",
                value: {
                  from: { id: m.contactId, username },
                  media: { id: m.postId, media_product_type: "FEED" },
                  id,
                  text: m.text,
                },
              },
            ],
          },
        ],
      },
    };
  }
  const postId = m.postId.includes("_") ? m.postId : `${own}_${m.postId}`;
  const commentId = `${postId.split("_").at(-1)}_${numericId(`comment-${uuidv7()}`, 16)}`;
  return {
    providerMessageId: commentId,
    body: {
      object,
      entry: [
        {
          id: own,
          time: seconds,
          changes: [
            {
              field: "feed",
              value: {
                from: { id: m.contactId, ...(m.name ? { name: m.name } : {}) },
                post: { id: postId, status_type: "added_photos", is_published: true },
                message: m.text,
                post_id: postId,
                comment_id: commentId,
                created_time: seconds,
                item: "comment",
                parent_id: postId,
                verb: "add",
              },
            },
          ],
        },
      ],
    },
  };
}

/**
 * X's Account Activity post: a DM to the brand, or (`postId`, `mention`) a public tweet answering
 * one of the brand's tweets or mentioning it (the signature is added by the caller).
 */
export function xBody(
  inbox: Inbox,
  brandId: string,
  m: {
    handle: string;
    name?: string | undefined;
    text: string;
    postId?: string | undefined;
    mention?: boolean | undefined;
    nowMs: number;
  },
): { body: unknown; providerMessageId: string } {
  const senderId = numericId(`x-handle-${m.handle.toLowerCase()}`, 19);
  const id = numericId(`x-${uuidv7()}`, 19);
  if (!m.postId && !m.mention) {
    return {
      providerMessageId: id,
      body: {
        for_user_id: brandId,
        direct_message_events: [
          {
            type: "message_create",
            id,
            created_timestamp: String(m.nowMs),
            message_create: {
              target: { recipient_id: brandId },
              sender_id: senderId,
              message_data: { text: m.text },
            },
          },
        ],
        users: { [senderId]: { id: senderId, name: m.name ?? m.handle, screen_name: m.handle } },
      },
    };
  }
  const brandHandle = inbox.address?.startsWith("@") ? inbox.address.slice(1) : "brand";
  const text = `@${brandHandle} ${m.text}`;
  return {
    providerMessageId: id,
    body: {
      for_user_id: brandId,
      tweet_create_events: [
        {
          id_str: id,
          text,
          display_text_range: [0, text.length],
          in_reply_to_status_id_str: m.postId ?? null,
          in_reply_to_user_id_str: m.postId ? brandId : null,
          in_reply_to_screen_name: m.postId ? brandHandle : null,
          user: { id_str: senderId, screen_name: m.handle, name: m.name ?? m.handle },
          entities: { user_mentions: [{ id_str: brandId, screen_name: brandHandle, name: brandHandle }] },
          timestamp_ms: String(m.nowMs),
          lang: "en",
        },
      ],
    },
  };
}

/** An RFC 5322 message from a customer to an email inbox, threaded under `inReplyTo` when given. */
export function rawEmail(m: {
  from: string;
  name?: string | undefined;
  to: string;
  subject: string;
  text: string;
  inReplyTo?: string | undefined;
  now: Date;
}): { raw: Buffer; messageId: string } {
  const domain = m.from.split("@")[1] ?? "example.com";
  const messageId = `<${uuidv7()}@${domain}>`;
  const headerText = (v: string) =>
    // RFC 2047: anything beyond printable ASCII travels base64-encoded
    /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v, "utf8").toString("base64")}?=`;
  const display = m.name ? `${headerText(m.name.replace(/["\\\r\n]/g, ""))} ` : "";
  const lines = [
    `From: ${display}<${m.from}>`,
    `To: <${m.to}>`,
    `Subject: ${headerText(m.subject.replace(/[\r\n]+/g, " "))}`,
    `Date: ${m.now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: ${messageId}`,
    ...(m.inReplyTo ? [`In-Reply-To: ${m.inReplyTo}`, `References: ${m.inReplyTo}`] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    ...(Buffer.from(m.text.replace(/\r?\n/g, "\r\n"), "utf8")
      .toString("base64")
      .match(/.{1,76}/g) ?? [""]),
    "",
  ];
  return { raw: Buffer.from(lines.join("\r\n"), "utf8"), messageId };
}

function usernameOf(name: string | undefined, fallback: string): string {
  const slug = (name ?? "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, ".")
    .replace(/^\.+|\.+$/g, "")
    .slice(0, 30);
  return slug || `user${fallback.slice(-6)}`;
}
