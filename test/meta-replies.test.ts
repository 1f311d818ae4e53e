import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Inbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { type FakeGraph, graphError, metaFixture, startFakeGraph } from "./support/fake-graph.ts";
import { IG, metaTestInbox, PAGE, postMetaWebhook, TOKEN } from "./support/meta-webhook.ts";

const PSID = "6543210987654321";
const IGSID = "1234567890123456";
const FB_COMMENT = "122134567890123456_1098765432109876";
const IG_COMMENT = "17998765432109876";

let app: App;
let graph: FakeGraph;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  graph = await startFakeGraph(TOKEN);
});
afterAll(async () => {
  await app?.close();
  await graph?.close();
});
const db = async () => (await testDatabase()).db;

async function metaInbox(t: TestWorkspace, kind: "messenger" | "instagram", config: object = {}) {
  return metaTestInbox(await db(), t.workspace.id, kind, graph.graphBaseUrl, config);
}

function webhook(t: TestWorkspace, inbox: Inbox, body: string) {
  return postMetaWebhook(app, t.workspace.id, inbox.id, body);
}

async function conversationOf(t: TestWorkspace): Promise<string> {
  const [row] = await rows<{ id: string }>(
    await db(),
    sql`SELECT id::text AS id FROM conversations WHERE workspace_id = ${t.workspace.id} ORDER BY created_at DESC LIMIT 1`,
  );
  if (!row) throw new Error("no conversation");
  return row.id;
}

/** An agent's reply through the REST API, then the delivery engine's run: the state it reached. */
async function reply(t: TestWorkspace, conversationId: string, body: object) {
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${t.secretKey}` },
    payload: body,
  });
  expect(res.statusCode).toBe(201);
  const deliveryId: string = res.json().delivery.deliveryId;
  const state = await runDelivery(await db(), t.workspace.id, deliveryId);
  return { deliveryId, state, delivery: await getDelivery(await db(), t.workspace.id, deliveryId) };
}

/** The Graph calls made since `from`. */
const callsSince = (from: number) => graph.requests.slice(from);

describe("replies through the Graph API", () => {
  it("answers a Messenger DM to the PSID; its echo is not stored again; deliveries and reads move the ledger", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, metaFixture("messenger-text"));
    const conversationId = await conversationOf(t);
    const from = graph.requests.length;
    const first = await reply(t, conversationId, { text: "Sorry Sam! Restoring your playlists now." });
    expect(first.state).toBe("sent");
    const [call, ...more] = callsSince(from);
    expect(more).toHaveLength(0);
    expect(call).toMatchObject({
      method: "POST",
      path: `/v21.0/${PAGE}/messages`,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      json: {
        recipient: { id: PSID },
        messaging_type: "RESPONSE",
        message: {
          text: "Sorry Sam! Restoring your playlists now.",
          metadata: `rapport:${first.deliveryId}`,
        },
      },
    });
    expect(first.delivery).toMatchObject({ provider: "meta", address: PSID, state: "sent" });
    const mid = first.delivery.providerMessageId ?? "";
    expect(mid).toMatch(/^m_/);

    // Messenger echoes every message the page sends; this one is already in the conversation
    const echo = metaFixture("messenger-echo", {
      m_TmV3VmVyc2lvbkVjaG9fQnVzaW5lc3NTdWl0ZV9SZXBseV9Gcm9tX0FnZW50X0luX0luYm94X0FwcA: mid,
      "263902037430900": "1517776481860111",
    });
    expect(await webhook(t, inbox, echo)).toMatchObject({ stored: 0, ignored: [{ what: mid }] });

    const second = await reply(t, conversationId, { text: "Done: they are back." });
    const secondMid = second.delivery.providerMessageId ?? "";
    // a read up to a time before either reply was written moves nothing
    expect(await webhook(t, inbox, metaFixture("messenger-read"))).toMatchObject({ statuses: 0 });
    expect(
      await webhook(t, inbox, metaFixture("messenger-delivery", { m_DELIVERED_MID: mid })),
    ).toMatchObject({
      statuses: 1,
    });
    expect((await getDelivery(await db(), t.workspace.id, first.deliveryId)).state).toBe("delivered");
    expect((await getDelivery(await db(), t.workspace.id, second.deliveryId)).state).toBe("sent");
    // an older Messenger client names no mids, only a watermark
    const now = String(Date.now());
    const byWatermark = metaFixture("messenger-delivery", {
      '"mids": ["m_DELIVERED_MID"],\n': "",
      "1732440200310": now,
    });
    expect(byWatermark).not.toContain("mids");
    expect(await webhook(t, inbox, byWatermark)).toMatchObject({ statuses: 1 });
    expect((await getDelivery(await db(), t.workspace.id, second.deliveryId)).state).toBe("delivered");
    expect(await webhook(t, inbox, metaFixture("messenger-read", { "1732440200310": now }))).toMatchObject({
      statuses: 2,
    });
    for (const id of [first.deliveryId, second.deliveryId]) {
      const d = await getDelivery(await db(), t.workspace.id, id);
      expect(d.state).toBe("opened");
      expect(d.events.map((e) => e.state)).toEqual(["queued", "sending", "sent", "delivered", "opened"]);
    }
    expect(secondMid).not.toBe(mid);

    // agents see each reply's fate
    const list = await app.inject({
      method: "GET",
      url: `/api/v1/conversations/${conversationId}/messages`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    const outbound = list.json().data.filter((m: { direction: string }) => m.direction === "outbound");
    expect(outbound.map((m: { deliveryState: string }) => m.deliveryState)).toEqual(["opened", "opened"]);
  });

  it("answers a Facebook comment in public under it, and privately with recipient.comment_id", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, metaFixture("feed-comment"));
    const conversationId = await conversationOf(t);
    const from = graph.requests.length;
    const pub = await reply(t, conversationId, { text: "Sorry Sam! A fix is rolling out now." });
    expect(pub.state).toBe("sent");
    const priv = await reply(t, conversationId, {
      text: "Sam, I sent you a gift code.",
      visibility: "private",
    });
    expect(priv.state).toBe("sent");
    const [publicCall, privateCall] = callsSince(from);
    expect(publicCall).toMatchObject({
      path: `/v21.0/${FB_COMMENT}/comments`,
      headers: { authorization: `Bearer ${TOKEN}` },
      json: { message: "Sorry Sam! A fix is rolling out now." },
    });
    expect(privateCall).toMatchObject({
      path: `/v21.0/${PAGE}/messages`,
      json: { recipient: { comment_id: FB_COMMENT }, message: { text: "Sam, I sent you a gift code." } },
    });
    expect(privateCall?.json).not.toHaveProperty("recipient.id");
    const commentId = pub.delivery.providerMessageId ?? "";
    expect(commentId).toMatch(/^122134567890123456_\d+$/);

    // the page's own comment, as the feed reports it: Rapport's reply, not stored twice
    const own = metaFixture("feed-page-reply", { "122134567890123456_1098765432109950": commentId });
    expect(await webhook(t, inbox, own)).toMatchObject({
      stored: 0,
      ignored: [{ what: commentId, reason: "a comment reply Rapport sent" }],
    });
  });

  it("answers an Instagram comment with /replies, privately through the account, and an Instagram DM to the IGSID", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "instagram");
    await webhook(t, inbox, metaFixture("instagram-comment"));
    const commentConversation = await conversationOf(t);
    const from = graph.requests.length;
    const pub = await reply(t, commentConversation, { text: "Offline mode is fixed in 8.4!" });
    expect(pub.state).toBe("sent");
    const priv = await reply(t, commentConversation, { text: "Check your DMs, Léa.", visibility: "private" });
    expect(priv.state).toBe("sent");
    await webhook(t, inbox, metaFixture("instagram-dm"));
    const dmConversation = await conversationOf(t);
    expect(dmConversation).not.toBe(commentConversation);
    const dm = await reply(t, dmConversation, { text: "Refund done: 9.99 € back on your card." });
    expect(dm.state).toBe("sent");
    expect(callsSince(from)).toMatchObject([
      { path: `/v21.0/${IG_COMMENT}/replies`, json: { message: "Offline mode is fixed in 8.4!" } },
      {
        path: `/v21.0/${IG}/messages`,
        json: { recipient: { comment_id: IG_COMMENT }, message: { text: "Check your DMs, Léa." } },
      },
      {
        path: `/v21.0/${IG}/messages`,
        json: {
          recipient: { id: IGSID },
          messaging_type: "RESPONSE",
          message: { text: "Refund done: 9.99 € back on your card." },
        },
      },
    ]);
    // Instagram's Send API takes no metadata
    expect(callsSince(from)[2]?.json).not.toHaveProperty("message.metadata");

    const read = metaFixture("instagram-read", { READ_MID: dm.delivery.providerMessageId ?? "" });
    // the DM thread is read up to the reply: the private reply opened it, the public one is elsewhere
    expect(await webhook(t, inbox, read)).toMatchObject({ statuses: 2 });
    const stateOf = async (id: string) => (await getDelivery(await db(), t.workspace.id, id)).state;
    expect([
      await stateOf(dm.deliveryId),
      await stateOf(priv.deliveryId),
      await stateOf(pub.deliveryId),
    ]).toEqual(["opened", "opened", "sent"]);
  });

  it("sends through a page's Graph node for an Instagram account answered with Facebook Login", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "instagram", { pageId: PAGE });
    await webhook(t, inbox, metaFixture("instagram-dm"));
    const from = graph.requests.length;
    expect((await reply(t, await conversationOf(t), { text: "Hello Léa" })).state).toBe("sent");
    expect(callsSince(from)).toMatchObject([
      { path: `/v21.0/${PAGE}/messages`, json: { recipient: { id: IGSID } } },
    ]);
  });
});

describe("Graph errors", () => {
  it("makes outside-the-window and bad-token answers final with Meta's message, and retries throttling and outages", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, metaFixture("messenger-text"));
    const conversationId = await conversationOf(t);

    graph.answerNext(
      graphError(400, 10, "(#10) This message is sent outside of allowed window.", { subcode: 2018278 }),
    );
    const late = await reply(t, conversationId, { text: "Still there?" });
    expect(late.state).toBe("failed");
    expect(late.delivery.error).toEqual({
      reason: "meta_error: 10/2018278 (#10) This message is sent outside of allowed window.",
      retryable: false,
    });

    graph.answerNext(graphError(400, 613, "Calls to this api have exceeded the rate limit."));
    const throttled = await reply(t, conversationId, { text: "Hello again" });
    expect(throttled.state).toBe("queued");
    expect(throttled.delivery.error).toMatchObject({
      retryable: true,
      reason: expect.stringContaining("613"),
    });

    graph.answerNext({
      status: 503,
      body: { error: { message: "Service temporarily unavailable", code: 2 } },
    });
    expect((await reply(t, conversationId, { text: "And again" })).state).toBe("queued");

    const revoked = await metaInbox(t, "messenger", { pageAccessToken: "EAAG-revoked" });
    await webhook(t, revoked, metaFixture("messenger-text"));
    const bad = await reply(t, await conversationOf(t), { text: "Hi" });
    expect(bad.state).toBe("failed");
    expect(bad.delivery.error?.reason).toMatch(/^meta_error: 190 Invalid OAuth access token/);
  });

  it("sends through the sandbox while the inbox holds no page access token", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger", { pageAccessToken: undefined });
    await webhook(t, inbox, metaFixture("messenger-text"));
    const from = graph.requests.length;
    const sent = await reply(t, await conversationOf(t), { text: "Hi from the sandbox" });
    expect(sent.state).toBe("delivered");
    expect(sent.delivery.provider).toBe("sandbox");
    expect(callsSince(from)).toHaveLength(0);
  });
});
