import { receiveInbound } from "../../conversations/inbound.ts";
import type { Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { ignored, stored, type XItemOutcome } from "./outcome.ts";
import type { XTweet, XTweetCore } from "./payload.ts";
import { conversationOfTweet, customerOfXUser, replyInFlight, sentByRapport } from "./threads.ts";
import { tweetContent, tweetUrl } from "./tweet-text.ts";

type Opts = { defaultCountry: string };

/** How a customer's tweet reaches the brand: a reply to its tweet, a quote of one, or a mention. */
export type TweetRelation = "reply" | "quote" | "mention";

/** Why this tweet is the brand's business, or undefined when it is not (X sends some anyway). */
export function relationToBrand(tweet: XTweet, brandId: string): TweetRelation | undefined {
  if (tweet.in_reply_to_user_id_str === brandId) return "reply";
  if (tweet.quoted_status?.user.id_str === brandId) return "quote";
  const mentions = tweet.extended_tweet?.entities?.user_mentions ?? tweet.entities?.user_mentions ?? [];
  return mentions.some((m) => m.id_str === brandId) ? "mention" : undefined;
}

function timeOf(tweet: XTweetCore): Date | undefined {
  if (tweet.timestamp_ms === null || tweet.timestamp_ms === undefined) return undefined;
  const at = new Date(Number(tweet.timestamp_ms));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** What agents see of a tweet: where it is, what it answers or quotes, its entities and media. */
function tweetDetails(tweet: XTweet) {
  const content = tweetContent(tweet);
  const quoted = tweet.quoted_status;
  return {
    id: tweet.id_str,
    url: tweetUrl(tweet.user.screen_name, tweet.id_str),
    fullText: content.fullText,
    inReplyToStatusId: tweet.in_reply_to_status_id_str ?? null,
    inReplyToUserId: tweet.in_reply_to_user_id_str ?? null,
    inReplyToScreenName: tweet.in_reply_to_screen_name ?? null,
    quoted: quoted
      ? {
          id: quoted.id_str,
          url: tweetUrl(quoted.user.screen_name, quoted.id_str),
          text: tweetContent(quoted).text,
          user: { id: quoted.user.id_str, screenName: quoted.user.screen_name },
        }
      : null,
    mentions: content.mentions,
    hashtags: content.hashtags,
    urls: content.urls,
    media: content.media,
    lang: tweet.lang ?? null,
    source: tweet.source ?? null,
  };
}

/**
 * Takes in one tweet of `tweet_create_events`. A customer's tweet that mentions the brand,
 * answers one of its tweets or quotes one becomes an inbound message answerable in public
 * (`metadata.replyTo` names the tweet). Its thread is that of the tweet it answers when
 * Rapport knows it (taken in, or a reply Rapport sent), else a thread of its own, so one
 * conversation follows one tweet thread. Retweets are ignored; the brand's own tweets go to
 * `receiveBrandTweet`.
 */
export async function receiveTweet(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  brandId: string,
  tweet: XTweet,
  opts: Opts,
): Promise<XItemOutcome> {
  if (tweet.retweeted_status !== undefined && tweet.retweeted_status !== null) {
    return ignored("tweet", tweet.id_str, "a retweet");
  }
  if (tweet.user.id_str === brandId) return receiveBrandTweet(db, workspaceId, inbox, brandId, tweet, opts);
  const relation = relationToBrand(tweet, brandId);
  if (!relation) return ignored("tweet", tweet.id_str, "neither mentions nor answers the brand");
  const parent = tweet.in_reply_to_status_id_str ?? undefined;
  const known = parent ? await conversationOfTweet(db, workspaceId, inbox.id, parent) : undefined;
  const author = tweet.user;
  const result = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      from: [
        { kind: "x_id", value: author.id_str },
        { kind: "x_handle", value: author.screen_name },
      ],
      contactAddress: author.id_str,
      ...(author.name ? { traits: { name: author.name } } : {}),
      providerMessageId: tweet.id_str,
      text: tweetContent(tweet).text,
      threadKey: known?.threadKey ?? `tweet:${parent ?? tweet.id_str}`,
      metadata: {
        channel: "x",
        kind: relation,
        // an agent's public reply answers this tweet
        replyTo: { kind: "post", id: tweet.id_str },
        from: { id: author.id_str, screenName: author.screen_name, name: author.name ?? null },
        tweet: tweetDetails(tweet),
      },
      receivedAt: timeOf(tweet),
    },
    { ...opts, inbox },
  );
  return stored("tweet", tweet.id_str, "inbound", result);
}

/**
 * The brand's own tweet. One Rapport sent (its delivery holds the id, or it is being sent
 * now) is skipped; a reply made elsewhere (X's app) in a thread Rapport follows is stored as
 * an outbound message of that conversation, so agents see it. Anything else (the brand's
 * posts, replies outside Rapport's conversations) opens nothing.
 */
async function receiveBrandTweet(
  db: Db,
  workspaceId: string,
  inbox: Inbox,
  brandId: string,
  tweet: XTweet,
  opts: Opts,
): Promise<XItemOutcome> {
  if (await sentByRapport(db, workspaceId, tweet.id_str)) {
    return ignored("tweet", tweet.id_str, "sent by Rapport");
  }
  const parent = tweet.in_reply_to_status_id_str;
  if (!parent) return ignored("tweet", tweet.id_str, "a post of the brand's, not a reply");
  const thread = await conversationOfTweet(db, workspaceId, inbox.id, parent);
  if (!thread?.threadKey) return ignored("tweet", tweet.id_str, "a reply outside Rapport's conversations");
  const content = tweetContent(tweet);
  if (await replyInFlight(db, workspaceId, inbox.id, thread.customerId, content.text)) {
    return ignored("tweet", tweet.id_str, "sent by Rapport");
  }
  // the customer answered; a thread of the brand's own tweets answers the conversation's customer
  const counterpart =
    tweet.in_reply_to_user_id_str && tweet.in_reply_to_user_id_str !== brandId
      ? tweet.in_reply_to_user_id_str
      : thread.contactAddress;
  if (!counterpart || (await customerOfXUser(db, workspaceId, counterpart)) !== thread.customerId) {
    return ignored("tweet", tweet.id_str, "answers someone outside this conversation");
  }
  const result = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      direction: "outbound",
      from: [{ kind: "x_id", value: counterpart }],
      providerMessageId: tweet.id_str,
      text: content.text,
      threadKey: thread.threadKey,
      metadata: {
        channel: "x",
        kind: "brand_reply",
        // written in X's own app, not through Rapport
        elsewhere: true,
        tweet: tweetDetails(tweet),
      },
      receivedAt: timeOf(tweet),
    },
    { ...opts, inbox },
  );
  return stored("tweet", tweet.id_str, "outbound", result);
}
