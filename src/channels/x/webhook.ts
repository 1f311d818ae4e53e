import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { xBrandUserId, xInboxConfigOf } from "./config.ts";
import type { XItemOutcome } from "./outcome.ts";
import { parseXWebhook } from "./payload.ts";
import { receiveDm } from "./receive-dm.ts";
import { receiveTweet } from "./receive-tweet.ts";
import { answerXCrc, verifyXSignature } from "./signature.ts";

/** A webhook post as it arrived: the raw bytes X signed, and its signature header. */
export type XWebhookRequest = { rawBody: Buffer; signature: string | undefined };

export type XWebhookOutcome = {
  /** Messages stored now (customers' tweets and DMs, and the brand's replies made elsewhere). */
  stored: number;
  /** Messages already stored (X sent the event again). */
  duplicates: number;
  /** Events that are not messages for this inbox: likes, follows, typing, retweets, Rapport's own replies… */
  ignored: number;
  items: XItemOutcome[];
};

/**
 * Answers X's Challenge-Response Check for an X inbox with the inbox's consumer secret.
 * An inbox without one cannot answer (403, naming the setting); a request without a
 * `crc_token` gets a 400 that says what this URL is for.
 */
export async function answerXCrcRequest(
  db: Db,
  workspaceId: string,
  inboxId: string,
  crcToken: string | undefined,
): Promise<{ response_token: string }> {
  const config = xInboxConfigOf(await getInbox(db, workspaceId, inboxId));
  return answerXCrc(config.consumerSecret, crcToken);
}

/**
 * Takes in an Account Activity post for one X inbox: verifies its signature over the raw
 * body (403 and nothing stored when it fails), reads it (400 naming the field when X would
 * never send it), then takes its tweets and DMs in order, each stored once per id. Events of
 * another subscribed account (`for_user_id`) and of other kinds are counted as ignored.
 */
export async function receiveXWebhook(
  db: Db,
  workspaceId: string,
  inboxId: string,
  request: XWebhookRequest,
  opts: { defaultCountry: string },
): Promise<XWebhookOutcome> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  const config = xInboxConfigOf(inbox);
  verifyXSignature(config.consumerSecret, request.rawBody, request.signature);
  const { payload, otherEvents } = parseXWebhook(request.rawBody);
  const brandId = xBrandUserId(inbox, config);
  const tweets = payload.tweet_create_events ?? [];
  const dms = payload.direct_message_events ?? [];
  const outcome: XWebhookOutcome = { stored: 0, duplicates: 0, ignored: otherEvents, items: [] };
  if (payload.for_user_id !== brandId) {
    // one X app's webhook carries every account it subscribed: this inbox takes only its own
    outcome.ignored += tweets.length + dms.length;
    return outcome;
  }
  // one at a time and in order: a tweet and the reply to it may arrive in one post
  for (const tweet of tweets) {
    outcome.items.push(await receiveTweet(db, workspaceId, inbox, brandId, tweet, opts));
  }
  for (const event of dms) {
    outcome.items.push(await receiveDm(db, workspaceId, inbox, brandId, event, payload, opts));
  }
  for (const item of outcome.items) {
    if (item.outcome === "stored") outcome.stored++;
    else if (item.outcome === "duplicate") outcome.duplicates++;
    else outcome.ignored++;
  }
  return outcome;
}
