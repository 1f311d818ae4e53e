import { z } from "zod";

// Graph ids are numeric strings; a few older payloads send them as JSON numbers
const Id = z.union([z.string().trim().min(1).max(256), z.number().int().nonnegative()]).transform(String);

/**
 * A Meta time: milliseconds (messaging events), seconds (feed and Instagram changes, `entry.time`
 * of changes) or an ISO date (some feed payloads); read as a Date, undefined when it cannot be.
 */
export const MetaTime = z.union([z.number(), z.string().max(64)]).transform((v): Date | undefined => {
  const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isFinite(n)) {
    // seconds until the year 33658; Meta's millisecond times are all past 1e12
    const d = new Date(n < 1e12 ? n * 1000 : n);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const d = new Date(typeof v === "string" ? v : Number.NaN);
  return Number.isNaN(d.getTime()) ? undefined : d;
});

const Text = z.string().max(100_000);

/** The envelope of every Meta webhook post: `object` and its `entry[]`, each with events or changes. */
export const MetaWebhook = z.object({
  object: z.string().min(1).max(64),
  entry: z
    .array(
      z.object({
        id: Id,
        time: MetaTime.optional(),
        messaging: z.array(z.record(z.string(), z.unknown())).max(1000).optional(),
        // events another app of the page (a handover protocol primary receiver) answers
        standby: z.array(z.record(z.string(), z.unknown())).max(1000).optional(),
        changes: z
          .array(z.object({ field: z.string().min(1).max(64), value: z.unknown() }))
          .max(1000)
          .optional(),
      }),
    )
    .max(1000),
});
export type MetaWebhook = z.infer<typeof MetaWebhook>;

const Party = z.object({ id: Id });

/** One attachment of a message: `type` (image, video, audio, file, share, story_mention…) and its URL. */
export const MetaAttachment = z.object({
  type: z.string().min(1).max(64),
  payload: z
    .object({
      url: z.string().max(4096).optional(),
      title: z.string().max(1000).optional(),
      sticker_id: Id.optional(),
    })
    .nullish(),
});
export type MetaAttachment = z.infer<typeof MetaAttachment>;

/** A `messaging[]` event carrying a `message`: a customer's DM, or an echo of one the page sent. */
export const MessageEvent = z.object({
  sender: Party,
  recipient: Party,
  timestamp: MetaTime.optional(),
  message: z.object({
    mid: z.string().trim().min(1).max(512),
    text: Text.optional(),
    attachments: z.array(MetaAttachment).max(50).optional(),
    is_echo: z.boolean().optional(),
    is_deleted: z.boolean().optional(),
    is_unsupported: z.boolean().optional(),
    app_id: Id.optional(),
    metadata: z.string().max(1000).optional(),
    quick_reply: z.object({ payload: z.string().max(1000) }).optional(),
    reply_to: z
      .object({
        mid: z.string().max(512).optional(),
        story: z.object({ id: Id, url: z.string().max(4096).optional() }).optional(),
      })
      .optional(),
  }),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

/** A `postback` event: the customer tapped a button (Get Started, a persistent menu item). */
export const PostbackEvent = z.object({
  sender: Party,
  recipient: Party,
  timestamp: MetaTime.optional(),
  postback: z.object({
    mid: z.string().trim().min(1).max(512).optional(),
    title: z.string().max(1000).optional(),
    payload: z.string().max(1000).optional(),
  }),
});
export type PostbackEvent = z.infer<typeof PostbackEvent>;

/** Messenger's `delivery` (mids, watermark) and `read` (watermark), Instagram's `read` (mid). */
export const StatusEvent = z.object({
  sender: Party,
  recipient: Party,
  timestamp: MetaTime.optional(),
  delivery: z
    .object({
      mids: z.array(z.string().min(1).max(512)).max(1000).optional(),
      watermark: MetaTime.optional(),
    })
    .optional(),
  read: z.object({ watermark: MetaTime.optional(), mid: z.string().min(1).max(512).optional() }).optional(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

/** A `feed` change of a Facebook page: a post, a comment, a reaction… (`item` and `verb` say which). */
export const FeedChange = z.object({
  item: z.string().min(1).max(64),
  verb: z.string().min(1).max(64),
  comment_id: Id.optional(),
  post_id: Id.optional(),
  parent_id: Id.optional(),
  from: z.object({ id: Id, name: z.string().max(500).optional() }).optional(),
  message: Text.optional(),
  created_time: MetaTime.optional(),
  photo: z.string().max(4096).optional(),
  video: z.string().max(4096).optional(),
  post: z
    .object({
      id: Id.optional(),
      permalink_url: z.string().max(4096).optional(),
      status_type: z.string().max(64).optional(),
    })
    .optional(),
});
export type FeedChange = z.infer<typeof FeedChange>;

/** A `comments` (or `live_comments`) change of an Instagram professional account. */
export const InstagramComment = z.object({
  id: Id,
  text: Text.optional(),
  parent_id: Id.optional(),
  from: z.object({ id: Id, username: z.string().max(200).optional() }).optional(),
  media: z
    .object({
      id: Id,
      media_product_type: z.string().max(64).optional(),
      original_media_id: Id.optional(),
    })
    .optional(),
});
export type InstagramComment = z.infer<typeof InstagramComment>;
