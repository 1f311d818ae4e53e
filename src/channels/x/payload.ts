import { z } from "zod";
import { AppError } from "../../errors.ts";

// Ids are read from the `*_str` fields: the numeric `id` fields pass 2^53 and lose digits in JSON.parse
const IdStr = z.string().regex(/^\d{1,32}$/, "must be a numeric id string");
const Text = z.string().max(100_000);
const Url = z.string().max(4096);

/** A user as tweets carry it (v1.1 user object); only what Rapport reads. */
export const XTweetUser = z.object({
  id_str: IdStr,
  screen_name: z.string().min(1).max(64),
  name: z.string().max(200).nullish(),
  profile_image_url_https: Url.nullish(),
});
export type XTweetUser = z.infer<typeof XTweetUser>;

/** Entities of a tweet or a DM: links (t.co and what they stand for), mentions, hashtags, media. */
export const XEntities = z.object({
  urls: z
    .array(z.object({ url: Url, expanded_url: Url.nullish(), display_url: Url.nullish() }))
    .max(100)
    .optional(),
  user_mentions: z
    .array(z.object({ id_str: IdStr, screen_name: z.string().max(64), name: z.string().max(200).nullish() }))
    .max(100)
    .optional(),
  hashtags: z
    .array(z.object({ text: z.string().max(280) }))
    .max(100)
    .optional(),
});
export type XEntities = z.infer<typeof XEntities>;

/** A photo, video or GIF of a tweet or DM. */
export const XMedia = z.object({
  id_str: IdStr,
  type: z.string().min(1).max(32),
  media_url_https: Url.nullish(),
  url: Url.nullish(),
  display_url: Url.nullish(),
  expanded_url: Url.nullish(),
  ext_alt_text: z.string().max(5000).nullish(),
});
export type XMedia = z.infer<typeof XMedia>;

const MediaEntities = z.object({ media: z.array(XMedia).max(10).optional() });
const Range = z.tuple([z.number().int().min(0), z.number().int().min(0)]);

const TweetFields = {
  id_str: IdStr,
  text: Text,
  truncated: z.boolean().nullish(),
  display_text_range: Range.nullish(),
  /** Tweets over 140 characters, in the compatibility mode Account Activity uses. */
  extended_tweet: z
    .object({
      full_text: Text,
      display_text_range: Range.nullish(),
      entities: XEntities.nullish(),
      extended_entities: MediaEntities.nullish(),
    })
    .nullish(),
  entities: XEntities.nullish(),
  extended_entities: MediaEntities.nullish(),
  in_reply_to_status_id_str: IdStr.nullish(),
  in_reply_to_user_id_str: IdStr.nullish(),
  in_reply_to_screen_name: z.string().max(64).nullish(),
  user: XTweetUser,
  source: z.string().max(1000).nullish(),
  lang: z.string().max(16).nullish(),
  timestamp_ms: z.union([z.string().regex(/^\d{1,15}$/), z.number().int().nonnegative()]).nullish(),
  is_quote_status: z.boolean().nullish(),
  quoted_status_id_str: IdStr.nullish(),
};

const QuotedTweet = z.object(TweetFields);

/** A tweet of `tweet_create_events` (the v1.1 tweet object in compatibility mode). */
export const XTweet = z.object({
  ...TweetFields,
  quoted_status: QuotedTweet.nullish(),
  /** Present on retweets: what was retweeted. */
  retweeted_status: z.unknown().optional(),
});
export type XTweet = z.infer<typeof XTweet>;
export type XTweetCore = z.infer<typeof QuotedTweet>;

/** One event of `direct_message_events`; only `message_create` events carry a message. */
export const XDmEvent = z.object({
  type: z.string().min(1).max(64),
  id: IdStr,
  created_timestamp: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional(),
  initiated_via: z.object({ tweet_id: IdStr.optional(), welcome_message_id: IdStr.optional() }).optional(),
  message_create: z
    .object({
      target: z.object({ recipient_id: IdStr }),
      sender_id: IdStr,
      source_app_id: IdStr.optional(),
      message_data: z.object({
        text: Text.default(""),
        entities: XEntities.nullish(),
        attachment: z.object({ type: z.string().max(32), media: XMedia.optional() }).nullish(),
        quick_reply_response: z
          .object({ type: z.string().max(32), metadata: z.string().max(1000).optional() })
          .nullish(),
      }),
    })
    .optional(),
});
export type XDmEvent = z.infer<typeof XDmEvent>;

/** A user as DM payloads list them in `users`, keyed by id. */
export const XDmUser = z.object({
  id: IdStr,
  name: z.string().max(200).nullish(),
  screen_name: z.string().min(1).max(64),
  profile_image_url_https: Url.nullish(),
});
export type XDmUser = z.infer<typeof XDmUser>;

/**
 * The envelope of an Account Activity post: `for_user_id` (the subscribed account) and one
 * kind of event list. Rapport reads tweets and DMs; every other `*_events` list (likes,
 * follows, typing, read receipts, blocks…) is counted as ignored.
 */
export const XWebhook = z.object({
  for_user_id: IdStr,
  tweet_create_events: z.array(XTweet).max(1000).optional(),
  direct_message_events: z.array(XDmEvent).max(1000).optional(),
  users: z.record(z.string(), XDmUser).optional(),
  apps: z
    .record(z.string(), z.object({ id: IdStr, name: z.string().max(200), url: Url.nullish() }))
    .optional(),
});
export type XWebhook = z.infer<typeof XWebhook>;

/** Reads a verified post: the envelope, and how many events of kinds Rapport does not read it holds. */
export function parseXWebhook(rawBody: Buffer): { payload: XWebhook; otherEvents: number } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString("utf8"));
  } catch {
    throw new AppError("x.invalid_payload", "The body is not JSON: X posts Account Activity events as JSON.");
  }
  const parsed = XWebhook.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "x.invalid_payload",
      `Not an X Account Activity event: ${issue?.path.join(".") || "body"} ${issue?.message ?? "is invalid"}.`,
      { field: issue?.path.join(".") },
    );
  }
  let otherEvents = 0;
  if (json && typeof json === "object") {
    for (const [key, value] of Object.entries(json)) {
      if (key === "tweet_create_events" || key === "direct_message_events") continue;
      if (key.endsWith("_events") && Array.isArray(value)) otherEvents += value.length;
      // a revoke arrives as `user_event`, one object
      else if (key === "user_event") otherEvents += 1;
    }
  }
  return { payload: parsed.data, otherEvents };
}
