import type { z } from "zod";
import { AppError } from "../../errors.ts";
import type { MetaInbox, MetaInboxKind } from "./config.ts";
import {
  FeedChange,
  InstagramComment,
  MessageEvent,
  type MetaAttachment,
  MetaWebhook,
  PostbackEvent,
  StatusEvent,
} from "./payload.ts";

/** The objects whose webhooks Rapport reads, and the inbox kind each feeds. */
const OBJECT_KINDS = new Map<string, MetaInboxKind>([
  ["page", "messenger"],
  ["instagram", "instagram"],
]);

/** The person on the other side of the page: their page-scoped (PSID) or Instagram-scoped id. */
export type MetaContact = { id: string; name?: string | undefined; username?: string | undefined };

/** A direct message, the customer's or (an echo) the page's. */
export type MetaDirectMessage = {
  type: "message";
  direction: "inbound" | "outbound";
  mid: string;
  contact: MetaContact;
  text: string;
  at: Date | undefined;
  attachments: MetaAttachment[];
  metadata: Record<string, unknown>;
  /** For an echo: the app that sent it and the metadata it was sent with (marks Rapport's own). */
  echo?: { appId: string | undefined; metadata: string | undefined };
};

/** A comment on one of the brand's posts or media; `own` when the brand wrote it. */
export type MetaComment = {
  type: "comment";
  own: boolean;
  commentId: string;
  /** The commenter (undefined for the brand's own comments). */
  contact: MetaContact | undefined;
  parentCommentId: string | undefined;
  text: string;
  at: Date | undefined;
  /** One conversation per commenter and post: `comments:<post or media id>`. */
  threadKey: string;
  /** The post or media commented on, when the webhook names it (with its link, when it gives one). */
  post: { id: string; permalinkUrl?: string | undefined } | undefined;
  subject: string;
  metadata: Record<string, unknown>;
};

/** Delivery or read news about messages the page sent to `contactId`. */
export type MetaStatus = {
  type: "status";
  state: "delivered" | "opened";
  contactId: string;
  mids: string[];
  /** Every message sent up to this time is delivered / read. */
  watermark: Date | undefined;
  /** Instagram names the last message read instead of a watermark. */
  mid: string | undefined;
  at: Date | undefined;
};

export type MetaIgnored = { type: "ignored"; what: string; reason: string };

export type MetaItem = MetaDirectMessage | MetaComment | MetaStatus | MetaIgnored;

function parseAt<S extends z.ZodType>(schema: S, value: unknown, path: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = [path, ...(issue?.path ?? []).map(String)].join(".");
  throw new AppError(
    "meta.invalid_payload",
    `Not a Meta webhook Rapport can read: ${where} ${issue?.message ?? "is invalid"}.`,
    { path: where },
  );
}

/**
 * Reads a verified webhook post for one inbox into what it carries, in order: messages,
 * echoes, comments, delivery and read news, and what Rapport leaves alone (with why). Pure:
 * nothing is stored, and a payload it cannot read is refused whole (400) before anything is.
 */
export function readMetaWebhook(inbox: MetaInbox, body: unknown): MetaItem[] {
  const envelope = MetaWebhook.safeParse(body);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    throw new AppError(
      "meta.invalid_payload",
      `Not a Meta webhook: ${issue?.path.join(".") || "body"} ${issue?.message ?? "is invalid"}.`,
      { path: issue?.path.join(".") },
    );
  }
  const { object, entry } = envelope.data;
  const kind = OBJECT_KINDS.get(object);
  if (!kind) {
    throw new AppError(
      "meta.unknown_object",
      `Meta webhooks for "${object}" are not read here; subscribe the Page object (Messenger, feed) or the Instagram object (messages, comments).`,
      { object },
    );
  }
  if (kind !== inbox.kind) {
    throw new AppError(
      "meta.object_mismatch",
      `This is a ${inbox.kind} inbox and the webhook is for "${object}": give each object its own inbox's URL in the app's webhook settings.`,
      { object, inboxKind: inbox.kind },
    );
  }
  const items: MetaItem[] = [];
  entry.forEach((e, i) => {
    if (inbox.address && e.id !== inbox.address) {
      items.push({
        type: "ignored",
        what: `entry ${e.id}`,
        reason: `for ${e.id}, not this inbox's ${inbox.kind === "messenger" ? "page" : "account"} ${inbox.address}`,
      });
      return;
    }
    for (const [list, events] of [
      ["messaging", e.messaging],
      ["standby", e.standby],
    ] as const) {
      (events ?? []).forEach((event, j) => {
        items.push(readMessagingEvent(event, e.id, `entry.${i}.${list}.${j}`));
      });
    }
    (e.changes ?? []).forEach((change, j) => {
      const path = `entry.${i}.changes.${j}.value`;
      items.push(readChange(inbox.kind, change.field, change.value, e.id, e.time, path));
    });
  });
  return items;
}

function readMessagingEvent(event: Record<string, unknown>, ownId: string, path: string): MetaItem {
  if ("message" in event) {
    const m = parseAt(MessageEvent, event, path);
    const echo = m.message.is_echo === true;
    if (m.message.is_deleted)
      return { type: "ignored", what: m.message.mid, reason: "an unsent (deleted) message" };
    const contact = echo ? m.recipient.id : m.sender.id;
    if (!echo && contact === ownId)
      return { type: "ignored", what: m.message.mid, reason: "sent by the page itself" };
    const r = m.message;
    return {
      type: "message",
      direction: echo ? "outbound" : "inbound",
      mid: r.mid,
      contact: { id: contact },
      text: r.text ?? "",
      at: m.timestamp,
      attachments: r.attachments ?? [],
      metadata: {
        ...(r.quick_reply ? { quickReply: r.quick_reply.payload } : {}),
        ...(r.reply_to?.mid ? { replyToMid: r.reply_to.mid } : {}),
        ...(r.reply_to?.story ? { story: r.reply_to.story } : {}),
        ...(r.is_unsupported ? { unsupported: true } : {}),
        ...(echo ? { echo: true, ...(r.app_id ? { appId: r.app_id } : {}) } : {}),
      },
      ...(echo ? { echo: { appId: r.app_id, metadata: r.metadata } } : {}),
    };
  }
  if ("postback" in event) {
    const p = parseAt(PostbackEvent, event, path);
    const mid = p.postback.mid ?? `postback:${p.sender.id}:${p.timestamp?.getTime() ?? "?"}`;
    return {
      type: "message",
      direction: "inbound",
      mid,
      contact: { id: p.sender.id },
      text: p.postback.title ?? p.postback.payload ?? "",
      at: p.timestamp,
      attachments: [],
      metadata: { postback: { title: p.postback.title ?? null, payload: p.postback.payload ?? null } },
    };
  }
  if ("delivery" in event || "read" in event) {
    const s = parseAt(StatusEvent, event, path);
    const news = s.delivery ?? s.read;
    return {
      type: "status",
      state: s.delivery ? "delivered" : "opened",
      contactId: s.sender.id,
      mids: s.delivery?.mids ?? [],
      watermark: news?.watermark,
      mid: s.read?.mid,
      at: s.timestamp,
    };
  }
  const what = Object.keys(event).find((k) => !["sender", "recipient", "timestamp"].includes(k)) ?? "event";
  return { type: "ignored", what, reason: `"${what}" events are not read` };
}

function readChange(
  kind: MetaInboxKind,
  field: string,
  value: unknown,
  ownId: string,
  entryTime: Date | undefined,
  path: string,
): MetaItem {
  if (kind === "messenger" && field === "feed") {
    const head = parseAt(FeedChange.pick({ item: true, verb: true }), value, path);
    if (head.item !== "comment")
      return { type: "ignored", what: `feed ${head.item}`, reason: "only comments open conversations" };
    if (head.verb !== "add")
      return { type: "ignored", what: `feed comment ${head.verb}`, reason: "only new comments are read" };
    const c = parseAt(FeedChange.required({ comment_id: true, post_id: true }), value, path);
    if (!c.from) return { type: "ignored", what: c.comment_id, reason: "the comment names no author" };
    const own = c.from.id === ownId;
    const parent = c.parent_id && c.parent_id !== c.post_id ? c.parent_id : undefined;
    return {
      type: "comment",
      own,
      commentId: c.comment_id,
      contact: own ? undefined : { id: c.from.id, name: c.from.name },
      parentCommentId: parent,
      text: c.message ?? "",
      at: c.created_time ?? entryTime,
      threadKey: `comments:${c.post_id}`,
      post: { id: c.post_id, permalinkUrl: c.post?.permalink_url },
      subject: "Comment on your Facebook post",
      metadata: {
        source: "facebook_comment",
        commentId: c.comment_id,
        post: {
          id: c.post_id,
          ...(c.post?.permalink_url ? { permalinkUrl: c.post.permalink_url } : {}),
          ...(c.post?.status_type ? { statusType: c.post.status_type } : {}),
        },
        ...(parent ? { parentCommentId: parent } : {}),
        from: { id: c.from.id, ...(c.from.name ? { name: c.from.name } : {}) },
        ...(c.photo ? { photo: c.photo } : {}),
        ...(c.video ? { video: c.video } : {}),
        replyTo: { kind: "comment", id: c.comment_id },
      },
    };
  }
  if (kind === "instagram" && (field === "comments" || field === "live_comments")) {
    const c = parseAt(InstagramComment, value, path);
    if (!c.from) return { type: "ignored", what: c.id, reason: "the comment names no author" };
    const own = c.from.id === ownId;
    const mediaId = c.media?.id ?? "unknown";
    return {
      type: "comment",
      own,
      commentId: c.id,
      contact: own ? undefined : { id: c.from.id, username: c.from.username },
      parentCommentId: c.parent_id,
      text: c.text ?? "",
      at: entryTime,
      threadKey: `comments:${mediaId}`,
      post: c.media ? { id: c.media.id } : undefined,
      subject:
        field === "live_comments" ? "Comment on your Instagram live" : "Comment on your Instagram post",
      metadata: {
        source: field === "live_comments" ? "instagram_live_comment" : "instagram_comment",
        commentId: c.id,
        media: {
          id: mediaId,
          ...(c.media?.media_product_type ? { productType: c.media.media_product_type } : {}),
          ...(c.media?.original_media_id ? { originalMediaId: c.media.original_media_id } : {}),
        },
        ...(c.parent_id ? { parentCommentId: c.parent_id } : {}),
        from: { id: c.from.id, ...(c.from.username ? { username: c.from.username } : {}) },
        replyTo: { kind: "comment", id: c.id },
      },
    };
  }
  return { type: "ignored", what: field, reason: `"${field}" changes are not read` };
}
