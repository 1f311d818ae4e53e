import { createHmac } from "node:crypto";
import { z } from "zod";
import { type FakeAnswer, type RecordedRequest, startRecordingServer } from "./fake-provider-server.ts";

export type FakeTweet = { id: string; text: string; inReplyToTweetId: string | undefined };
export type FakeDm = { eventId: string; participantId: string; text: string };

// what X reads of a tweet or DM request; anything else makes it answer 400
const Body = z.object({
  text: z.string().min(1).optional(),
  reply: z.object({ in_reply_to_tweet_id: z.string().regex(/^\d+$/) }).optional(),
});

/** An X API v2 problem body: `{ title, detail, type, status }`. */
export function xProblem(status: number, title: string, detail: string): FakeAnswer {
  return { status, body: { title, detail, type: "about:blank", status } };
}

/**
 * A local stand-in for the X API v2 endpoints Rapport replies with: `POST /2/tweets` and
 * `POST /2/dm_conversations/with/:participant_id/messages`. Checks the bearer token, creates
 * a tweet or DM event per request with snowflake-like ids, answers as X does (201 with
 * `data`), records every request, and can be told to answer errors.
 */
export async function startFakeX(account: { accessToken: string; userId: string }) {
  const tweets: FakeTweet[] = [];
  const dms: FakeDm[] = [];
  let next = 1899200000000000000n;
  const nextId = () => {
    next += 4096n;
    return next.toString();
  };
  const server = await startRecordingServer((req: RecordedRequest) => {
    if (req.headers.authorization !== `Bearer ${account.accessToken}`) {
      return xProblem(401, "Unauthorized", "Unauthorized");
    }
    const body = Body.safeParse(req.json);
    const text = body.success ? body.data.text : undefined;
    if (req.method === "POST" && req.path === "/2/tweets") {
      if (!text)
        return xProblem(400, "Invalid Request", "One or more parameters to your request was invalid.");
      const tweet: FakeTweet = {
        id: nextId(),
        text,
        inReplyToTweetId: body.data?.reply?.in_reply_to_tweet_id,
      };
      tweets.push(tweet);
      return { status: 201, body: { data: { id: tweet.id, text, edit_history_tweet_ids: [tweet.id] } } };
    }
    const dm = /^\/2\/dm_conversations\/with\/(\d+)\/messages$/.exec(req.path);
    if (req.method === "POST" && dm?.[1]) {
      if (!text)
        return xProblem(400, "Invalid Request", "One or more parameters to your request was invalid.");
      const event: FakeDm = { eventId: nextId(), participantId: dm[1], text };
      dms.push(event);
      return {
        status: 201,
        body: { data: { dm_conversation_id: `${account.userId}-${dm[1]}`, dm_event_id: event.eventId } },
      };
    }
    return xProblem(404, "Not Found Error", `No route for ${req.method} ${req.path}`);
  });
  return { ...server, tweets, dms };
}

export type FakeX = Awaited<ReturnType<typeof startFakeX>>;

/**
 * Signs a body as X does (`sha256=` + base64 HMAC-SHA256 keyed by the consumer secret),
 * computed here rather than with Rapport's own helper so the tests check it.
 */
export function signLikeX(consumerSecret: string, body: string): string {
  return `sha256=${createHmac("sha256", consumerSecret).update(body, "utf8").digest("base64")}`;
}
