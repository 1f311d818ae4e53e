import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, type Inbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { type FakeX, signLikeX, startFakeX } from "./support/fake-x.ts";

const SECRET = "x-consumer-secret-for-replies";
const TOKEN = "brand-user-context-token";
const BRAND_ID = "1372648374726402050";
const PAT_ID = "1590873366429388800";
const MENTION_ID = "1899105532764213250";

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/x/${name}.json`, "utf8"));

let app: App;
let x: FakeX;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "FR" });
  x = await startFakeX({ accessToken: TOKEN, userId: BRAND_ID });
});
afterAll(async () => {
  await app?.close();
  await x?.close();
});
const db = async () => (await testDatabase()).db;

async function xInbox(t: TestWorkspace, config: Record<string, unknown> = {}) {
  return createInbox(await db(), t.workspace.id, {
    kind: "x",
    name: "@MelodiaCares",
    address: "MelodiaCares",
    config: { consumerSecret: SECRET, userId: BRAND_ID, accessToken: TOKEN, apiBaseUrl: x.url, ...config },
  });
}

/** Posts events as X does, the moment they happen (the fixtures' times are replaced by now). */
async function deliver(t: TestWorkspace, inbox: Inbox, payload: Record<string, unknown>) {
  const now = String(Date.now());
  for (const tweet of asList(payload.tweet_create_events)) tweet.timestamp_ms = now;
  for (const event of asList(payload.direct_message_events)) event.created_timestamp = now;
  const body = JSON.stringify(payload);
  const res = await app.inject({
    method: "POST",
    url: `/webhooks/x/${t.workspace.id}/inbox/${inbox.id}`,
    headers: { "content-type": "application/json", "x-twitter-webhooks-signature": signLikeX(SECRET, body) },
    payload: body,
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const asList = (v: unknown): Array<Record<string, unknown>> =>
  Array.isArray(v) ? v.filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null) : [];

async function reply(t: TestWorkspace, conversationId: string, body: Record<string, unknown>) {
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${t.secretKey}` },
    payload: body,
  });
  expect(res.statusCode).toBe(201);
  const deliveryId: string = res.json().delivery.deliveryId;
  return { messageId: res.json().messageId, deliveryId };
}

async function messagesOf(workspaceId: string) {
  return rows<{ conversationId: string; direction: string; text: string; providerMessageId: string | null }>(
    await db(),
    sql`SELECT conversation_id::text AS "conversationId", direction, text, provider_message_id AS "providerMessageId"
        FROM conversation_messages WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

/** The brand's tweet as X echoes it back: the fixture with the id and text X gave the reply. */
function echoOfTweet(id: string, text: string, inReplyTo: string) {
  const echo = fixture("brand-reply");
  const tweet = echo.tweet_create_events[0];
  Object.assign(tweet, {
    id_str: id,
    text: `@pat_listens ${text}`,
    display_text_range: [13, 13 + Array.from(text).length],
    in_reply_to_status_id_str: inReplyTo,
  });
  return echo;
}

describe("an agent's reply on X", () => {
  it("answers a mention in public under the tweet, skips its echo, and threads the customer's answer to it", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const first = await deliver(t, inbox, fixture("mention"));
    const conversationId: string = first.items[0].conversationId;

    const sent = await reply(t, conversationId, {
      text: "So sorry, Pat! 8.4.1 fixes it: https://melodia.example/update",
    });
    expect(await runDelivery(await db(), t.workspace.id, sent.deliveryId)).toBe("sent");
    const tweet = x.tweets.at(-1);
    expect(tweet).toMatchObject({
      text: "So sorry, Pat! 8.4.1 fixes it: https://melodia.example/update",
      inReplyToTweetId: MENTION_ID,
    });
    const request = x.requests.at(-1);
    expect(request).toMatchObject({ method: "POST", path: "/2/tweets" });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.json).toEqual({
      text: "So sorry, Pat! 8.4.1 fixes it: https://melodia.example/update",
      reply: { in_reply_to_tweet_id: MENTION_ID },
    });
    const delivery = await getDelivery(await db(), t.workspace.id, sent.deliveryId);
    expect(delivery).toMatchObject({
      provider: "x",
      providerMessageId: tweet?.id,
      channel: "x",
      address: PAT_ID,
    });

    // X echoes the brand's new tweet to the webhook: Rapport's own, not stored again
    const echo = await deliver(t, inbox, echoOfTweet(tweet?.id ?? "", tweet?.text ?? "", MENTION_ID));
    expect(echo).toMatchObject({ stored: 0, items: [{ outcome: "ignored", reason: "sent by Rapport" }] });

    // Pat answers the reply Rapport sent: the same conversation, and the next reply goes under it
    const answer = fixture("reply-to-brand");
    answer.tweet_create_events[0].in_reply_to_status_id_str = tweet?.id;
    const threaded = await deliver(t, inbox, answer);
    expect(threaded).toMatchObject({ stored: 1, items: [{ conversationId, opened: false }] });
    const next = await reply(t, conversationId, { text: "Glad to hear it 🎶" });
    expect(await runDelivery(await db(), t.workspace.id, next.deliveryId)).toBe("sent");
    expect(x.tweets.at(-1)).toMatchObject({
      text: "Glad to hear it 🎶",
      inReplyToTweetId: "1899131450098765825",
    });

    const messages = await messagesOf(t.workspace.id);
    expect(messages.map((m) => m.direction)).toEqual(["inbound", "outbound", "inbound", "outbound"]);
    expect(new Set(messages.map((m) => m.conversationId))).toEqual(new Set([conversationId]));
  });

  it("answers a mention privately by DM to its author, and recognises that DM's echo", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const conversationId: string = (await deliver(t, inbox, fixture("mention"))).items[0].conversationId;
    const sent = await reply(t, conversationId, {
      text: "Could you DM us the email of your account?",
      visibility: "private",
    });
    expect(await runDelivery(await db(), t.workspace.id, sent.deliveryId)).toBe("sent");
    const dm = x.dms.at(-1);
    expect(dm).toMatchObject({ participantId: PAT_ID, text: "Could you DM us the email of your account?" });
    expect(x.requests.at(-1)?.path).toBe(`/2/dm_conversations/with/${PAT_ID}/messages`);
    expect(x.requests.at(-1)?.json).toEqual({ text: "Could you DM us the email of your account?" });
    expect((await getDelivery(await db(), t.workspace.id, sent.deliveryId)).providerMessageId).toBe(
      dm?.eventId,
    );

    const echo = fixture("brand-dm");
    Object.assign(echo.direct_message_events[0], { id: dm?.eventId });
    echo.direct_message_events[0].message_create.message_data.text = dm?.text;
    expect(await deliver(t, inbox, echo)).toMatchObject({
      stored: 0,
      items: [{ reason: "sent by Rapport" }],
    });
    expect(await messagesOf(t.workspace.id)).toHaveLength(2);
  });

  it("answers a DM conversation by DM", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const conversationId: string = (await deliver(t, inbox, fixture("dm"))).items[0].conversationId;
    const sent = await reply(t, conversationId, { text: "Thanks Pat, restoring them now." });
    expect(await runDelivery(await db(), t.workspace.id, sent.deliveryId)).toBe("sent");
    expect(x.dms.at(-1)).toMatchObject({ participantId: PAT_ID, text: "Thanks Pat, restoring them now." });
  });

  it("skips the echo of a reply X answers before Rapport has recorded its id", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const conversationId: string = (await deliver(t, inbox, fixture("mention"))).items[0].conversationId;
    const sent = await reply(t, conversationId, { text: "On it, Pat!" });
    // the echo races the delivery engine: the delivery is still queued, its tweet id unknown
    const echo = await deliver(t, inbox, echoOfTweet("1899150000000000001", "On it, Pat!", MENTION_ID));
    expect(echo).toMatchObject({ stored: 0, items: [{ outcome: "ignored", reason: "sent by Rapport" }] });
    // a different text in that thread is the brand writing elsewhere: kept
    const other = await deliver(
      t,
      inbox,
      echoOfTweet("1899150000000000002", "Also: restart the app.", MENTION_ID),
    );
    expect(other).toMatchObject({ stored: 1, items: [{ direction: "outbound" }] });
    expect(await runDelivery(await db(), t.workspace.id, sent.deliveryId)).toBe("sent");
  });

  it("refuses a public reply longer than a tweet, saying why, without calling X", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const conversationId: string = (await deliver(t, inbox, fixture("mention"))).items[0].conversationId;
    const calls = x.requests.length;
    const sent = await reply(t, conversationId, { text: `${"Your playlists are safe. ".repeat(12)}` });
    expect(await runDelivery(await db(), t.workspace.id, sent.deliveryId)).toBe("failed");
    const delivery = await getDelivery(await db(), t.workspace.id, sent.deliveryId);
    expect(delivery.error?.reason).toMatch(/^x_tweet_too_long: this reply counts 299 characters/);
    expect(delivery.error?.reason).toMatch(/visibility "private"/);
    expect(x.requests.length).toBe(calls);

    // the same words privately go as a DM
    const dm = await reply(t, conversationId, {
      text: "Your playlists are safe. ".repeat(12),
      visibility: "private",
    });
    expect(await runDelivery(await db(), t.workspace.id, dm.deliveryId)).toBe("sent");
  });

  it("sends through the sandbox while the inbox has no access token", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t, { accessToken: undefined });
    const conversationId: string = (await deliver(t, inbox, fixture("mention"))).items[0].conversationId;
    const calls = x.requests.length;
    const sent = await reply(t, conversationId, { text: "Hello from the sandbox" });
    await runDelivery(await db(), t.workspace.id, sent.deliveryId);
    const delivery = await getDelivery(await db(), t.workspace.id, sent.deliveryId);
    expect(delivery).toMatchObject({ provider: "sandbox", channel: "x", address: PAT_ID });
    expect(["sent", "delivered"]).toContain(delivery.state);
    expect(x.requests.length).toBe(calls);
  });
});
