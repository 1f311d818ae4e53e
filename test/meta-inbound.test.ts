import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localAttachmentStore } from "../src/conversations/attachments.ts";
import { createInbox, type Inbox } from "../src/conversations/inboxes.ts";
import type { Attachment } from "../src/conversations/tables.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { findByIdentifier } from "../src/profiles/customers.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { type FakeGraph, metaFixture, signMeta, startFakeGraph } from "./support/fake-graph.ts";

const PAGE = "109876543210987";
const PSID = "6543210987654321";
const IG = "17841400000000001";
const IGSID = "1234567890123456";
const SECRET = "meta-app-secret-7f3a";
const VERIFY = "verify-token-for-rapport";

let app: App;
let dataDir: string;
let cdn: FakeGraph;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "rapport-meta-"));
  app = await testApp({ RAPPORT_DATA_DIR: dataDir, RAPPORT_DEFAULT_COUNTRY: "US" });
  cdn = await startFakeGraph("unused");
});
afterAll(async () => {
  await app?.close();
  await cdn?.close();
  rmSync(dataDir, { recursive: true, force: true });
});
const db = async () => (await testDatabase()).db;

async function metaInbox(t: TestWorkspace, kind: "messenger" | "instagram", config: object = {}) {
  return createInbox(await db(), t.workspace.id, {
    kind,
    name: kind === "messenger" ? "Facebook page" : "Instagram",
    address: kind === "messenger" ? PAGE : IG,
    config: { appSecret: SECRET, verifyToken: VERIFY, ...config },
  });
}

const webhookPath = (t: TestWorkspace, inbox: Inbox) => `/webhooks/meta/${t.workspace.id}/inbox/${inbox.id}`;

function post(t: TestWorkspace, inbox: Inbox, body: string, signature: string | undefined) {
  return app.inject({
    method: "POST",
    url: webhookPath(t, inbox),
    headers: {
      "content-type": "application/json",
      ...(signature !== undefined ? { "x-hub-signature-256": signature } : {}),
    },
    payload: body,
  });
}

const postSigned = (t: TestWorkspace, inbox: Inbox, body: string) =>
  post(t, inbox, body, signMeta(body, SECRET));

type StoredMessage = {
  conversationId: string;
  direction: string;
  text: string;
  providerMessageId: string | null;
  metadata: Record<string, unknown>;
  attachments: Attachment[];
};

async function messagesOf(workspaceId: string) {
  return rows<StoredMessage>(
    await db(),
    sql`SELECT conversation_id::text AS "conversationId", direction, text, provider_message_id AS "providerMessageId",
          metadata, attachments
        FROM conversation_messages WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

async function conversationsOf(workspaceId: string) {
  return rows<{
    id: string;
    customerId: string;
    contactAddress: string;
    channel: string;
    threadKey: string | null;
    subject: string | null;
    status: string;
  }>(
    await db(),
    sql`SELECT id::text AS id, customer_id::text AS "customerId", contact_address AS "contactAddress", channel,
          thread_key AS "threadKey", subject, status
        FROM conversations WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

describe("Meta webhook verification (hub.challenge)", () => {
  it("echoes the challenge for the inbox's verify token, and refuses any other", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    const get = (query: string) => app.inject({ method: "GET", url: `${webhookPath(t, inbox)}?${query}` });
    const ok = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toMatch(/^text\/plain/);
    expect(ok.body).toBe("1158201444");

    const wrong = await get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444");
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ error: { code: "meta.verify_token_forbidden" } });
    const missing = await get("hub.mode=subscribe&hub.challenge=1158201444");
    expect(missing.statusCode).toBe(403);
    const mode = await get(`hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`);
    expect(mode.statusCode).toBe(400);
    expect(mode.json()).toMatchObject({ error: { code: "meta.challenge_invalid" } });
  });
});

describe("Messenger messages", () => {
  it("resolves the sender by PSID, opens one DM conversation, threads the next message, stores a replay once", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    // the fixture's own bytes, pretty-printed with an emoji: the signature covers them as sent
    const first = metaFixture("messenger-text");
    const res = await postSigned(t, inbox, first);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ stored: 1, duplicates: 0, statuses: 0, ignored: [] });

    const customer = await findByIdentifier(await db(), t.workspace.id, "messenger_psid", PSID, "US");
    expect(customer).toBeDefined();
    const [conversation, ...others] = await conversationsOf(t.workspace.id);
    expect(others).toHaveLength(0);
    expect(conversation).toMatchObject({
      customerId: customer?.id,
      contactAddress: PSID,
      channel: "messenger",
      threadKey: null,
      status: "open",
    });

    const second = metaFixture("messenger-postback");
    expect((await postSigned(t, inbox, second)).json()).toMatchObject({ stored: 1 });
    // Meta retries what it thinks failed: the same mid is stored once
    const replay = await postSigned(t, inbox, first);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ stored: 0, duplicates: 1 });

    const messages = await messagesOf(t.workspace.id);
    expect(messages).toHaveLength(2);
    expect(new Set(messages.map((m) => m.conversationId))).toEqual(new Set([conversation?.id]));
    expect(messages[0]).toMatchObject({
      direction: "inbound",
      text: "Hi! My playlists disappeared after the update 😢 Can you help?",
      providerMessageId: expect.stringMatching(/^m_AG5H/),
      metadata: { source: "messenger_dm", from: { id: PSID } },
    });
    expect(messages[1]).toMatchObject({
      text: "Talk to a human",
      metadata: { postback: { title: "Talk to a human", payload: "HUMAN_HANDOVER" } },
    });
  });

  it("keeps a message's files in the attachment store and their URLs in its metadata; a file that fails costs only itself", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    const body = metaFixture("messenger-attachments", {
      "https://scontent.xx.fbcdn.net/v/t1.15752-9/": `${cdn.url}/media/`,
      "https://cdn.fbsbx.com/v/t59.2708-21/468120754_1265432_n.pdf/": `${cdn.url}/media/`,
      "https://scontent.xx.fbcdn.net/v/t39.1997-6/": `${cdn.url}/media/missing-`,
    });
    expect((await postSigned(t, inbox, body)).json()).toMatchObject({ stored: 1 });
    const [message] = await messagesOf(t.workspace.id);
    expect(message?.text).toBe("");
    expect(message?.attachments.map((a) => [a.name, a.contentType])).toEqual([
      ["467893021_1099872318_n.png", "image/png"],
      ["receipt-november.pdf", "application/pdf"],
    ]);
    const store = localAttachmentStore(join(dataDir, "attachments"));
    const kept = await store.get(t.workspace.id, message?.attachments[1]?.key ?? "");
    expect(kept?.data.toString()).toBe("bytes of receipt-november.pdf");
    expect(message?.metadata).toMatchObject({
      attachments: [
        { type: "image", url: expect.stringContaining("/media/467893021_1099872318_n.png?") },
        { type: "file", url: expect.stringContaining("/media/receipt-november.pdf?") },
        { type: "image", stickerId: "369239263222822" },
      ],
      mediaFailures: [{ index: 2, reason: "HTTP 404" }],
    });
  });

  it("keeps a reply the page made elsewhere (an echo) as an outbound message, without reopening anything", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    await postSigned(t, inbox, metaFixture("messenger-text"));
    const echo = await postSigned(t, inbox, metaFixture("messenger-echo"));
    expect(echo.json()).toMatchObject({ stored: 1 });
    const [inbound, outbound] = await messagesOf(t.workspace.id);
    expect(outbound).toMatchObject({
      conversationId: inbound?.conversationId,
      direction: "outbound",
      text: "Hi Sam, we're restoring them now: give us ten minutes.",
      metadata: { echo: true, appId: "263902037430900" },
    });
    expect(await conversationsOf(t.workspace.id)).toHaveLength(1);
  });

  it("leaves alone the echoes of Rapport's own replies: its metadata mark, or its app id", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger", { appId: "263902037430900" });
    await postSigned(t, inbox, metaFixture("messenger-text"));
    const byAppId = await postSigned(t, inbox, metaFixture("messenger-echo"));
    expect(byAppId.json()).toMatchObject({
      stored: 0,
      ignored: [{ reason: "the echo of a reply Rapport sent" }],
    });

    const other = await metaInbox(t, "messenger");
    const marked = metaFixture("messenger-echo", {
      '"app_id": 263902037430900,':
        '"app_id": 1517776481860111, "metadata": "rapport:0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",',
    });
    expect((await postSigned(t, other, marked)).json()).toMatchObject({
      stored: 0,
      ignored: [{ what: expect.any(String) }],
    });
    expect((await messagesOf(t.workspace.id)).map((m) => m.direction)).toEqual(["inbound"]);
  });

  it("leaves alone entries for another page, events it does not read, and the brand's own post reactions", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    const otherPage = metaFixture("messenger-text", { [`"id": "${PAGE}"`]: '"id": "100000000000001"' });
    const res = await postSigned(t, inbox, otherPage);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      stored: 0,
      ignored: [
        { what: "entry 100000000000001", reason: expect.stringContaining(`not this inbox's page ${PAGE}`) },
      ],
    });
    const reaction = await postSigned(t, inbox, metaFixture("feed-reaction"));
    expect(reaction.json()).toMatchObject({ stored: 0, ignored: [{ what: "feed reaction" }] });
    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
  });
});

describe("Facebook comments", () => {
  it("opens one conversation per commenter and post, with the post as context and the comment as what a reply answers", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    expect((await postSigned(t, inbox, metaFixture("feed-comment"))).json()).toMatchObject({ stored: 1 });
    const sam = await findByIdentifier(
      await db(),
      t.workspace.id,
      "messenger_psid",
      "7012345678901234",
      "US",
    );
    expect(sam?.traits).toMatchObject({ name: "Sam Rivera" });
    const [conversation] = await conversationsOf(t.workspace.id);
    expect(conversation).toMatchObject({
      customerId: sam?.id,
      contactAddress: "7012345678901234",
      channel: "messenger",
      threadKey: "comments:109876543210987_122134567890123456",
      subject: "Comment on your Facebook post",
    });
    const [comment] = await messagesOf(t.workspace.id);
    expect(comment).toMatchObject({
      direction: "inbound",
      text: "The app crashes every time I open my library. Anyone else?",
      providerMessageId: "122134567890123456_1098765432109876",
      metadata: {
        source: "facebook_comment",
        commentId: "122134567890123456_1098765432109876",
        post: {
          id: "109876543210987_122134567890123456",
          permalinkUrl: expect.stringContaining("story_fbid=pfbid02xRc7bPv2mQwq6n1Jh8"),
          statusType: "added_photos",
        },
        from: { id: "7012345678901234", name: "Sam Rivera" },
        replyTo: { kind: "comment", id: "122134567890123456_1098765432109876" },
      },
    });
    expect(comment?.metadata).not.toHaveProperty("parentCommentId");

    // another person answering Sam's comment: their own conversation, the parent comment kept
    expect((await postSigned(t, inbox, metaFixture("feed-comment-reply"))).json()).toMatchObject({
      stored: 1,
    });
    // Sam again under the same post: the same conversation; under another post: a new one
    const again = metaFixture("feed-comment", {
      "122134567890123456_1098765432109876": "122134567890123456_1098765432109999",
    });
    await postSigned(t, inbox, again);
    const elsewhere = metaFixture("feed-comment", {
      "122134567890123456": "122139999999999999",
    });
    await postSigned(t, inbox, elsewhere);

    const conversations = await conversationsOf(t.workspace.id);
    expect(conversations.map((c) => [c.contactAddress, c.threadKey])).toEqual([
      ["7012345678901234", "comments:109876543210987_122134567890123456"],
      ["7098765432109876", "comments:109876543210987_122134567890123456"],
      ["7012345678901234", "comments:109876543210987_122139999999999999"],
    ]);
    const messages = await messagesOf(t.workspace.id);
    const byId = (id: string) => messages.find((m) => m.providerMessageId === id);
    expect(byId("122134567890123456_1098765432109912")?.metadata).toMatchObject({
      parentCommentId: "122134567890123456_1098765432109876",
      replyTo: { kind: "comment", id: "122134567890123456_1098765432109912" },
    });
    expect(byId("122134567890123456_1098765432109999")?.conversationId).toBe(conversations[0]?.id);
  });

  it("never opens a conversation for the brand's own comment; its answer to a customer written elsewhere joins that conversation", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    const ownPost = metaFixture("feed-page-reply", {
      '"parent_id": "122134567890123456_1098765432109876"':
        '"parent_id": "109876543210987_122134567890123456"',
    });
    expect((await postSigned(t, inbox, ownPost)).json()).toMatchObject({ stored: 0, ignored: [{}] });
    expect(await conversationsOf(t.workspace.id)).toHaveLength(0);

    await postSigned(t, inbox, metaFixture("feed-comment"));
    expect((await postSigned(t, inbox, metaFixture("feed-page-reply"))).json()).toMatchObject({ stored: 1 });
    const [conversation, ...others] = await conversationsOf(t.workspace.id);
    expect(others).toHaveLength(0);
    const [, answer] = await messagesOf(t.workspace.id);
    expect(answer).toMatchObject({
      conversationId: conversation?.id,
      direction: "outbound",
      text: "Sorry Sam! A fix is rolling out now; update the app in a few minutes.",
      providerMessageId: "122134567890123456_1098765432109950",
    });
    expect(answer?.metadata).not.toHaveProperty("replyTo");
  });
});

describe("Instagram comments and DMs", () => {
  it("opens a conversation for a comment on the brand's media, and another for the same person's DM", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "instagram");
    expect((await postSigned(t, inbox, metaFixture("instagram-comment"))).json()).toMatchObject({
      stored: 1,
    });
    expect((await postSigned(t, inbox, metaFixture("instagram-comment-reply"))).json()).toMatchObject({
      stored: 1,
    });
    expect((await postSigned(t, inbox, metaFixture("instagram-dm"))).json()).toMatchObject({ stored: 1 });
    const lea = await findByIdentifier(await db(), t.workspace.id, "instagram_id", IGSID, "US");
    expect(lea?.traits).toMatchObject({ instagramUsername: "lea.music" });

    const conversations = await conversationsOf(t.workspace.id);
    expect(conversations.map((c) => [c.customerId === lea?.id, c.channel, c.threadKey, c.subject])).toEqual([
      [true, "instagram", "comments:18012345678901234", "Comment on your Instagram post"],
      [false, "instagram", "comments:18012345678901234", "Comment on your Instagram post"],
      [true, "instagram", null, null],
    ]);
    const [comment, reply, dm] = await messagesOf(t.workspace.id);
    expect(comment).toMatchObject({
      text: "Still no fix for offline mode?? 3 weeks now @melodia",
      providerMessageId: "17998765432109876",
      metadata: {
        source: "instagram_comment",
        media: { id: "18012345678901234", productType: "FEED" },
        from: { id: IGSID, username: "lea.music" },
        replyTo: { kind: "comment", id: "17998765432109876" },
      },
    });
    expect(reply?.metadata).toMatchObject({ parentCommentId: "17998765432109876" });
    expect(dm).toMatchObject({
      text: "Hi, can I get a refund for last month? Premium didn't work offline.",
      metadata: { source: "instagram_dm", from: { id: IGSID } },
    });
    expect(dm?.metadata).not.toHaveProperty("replyTo");
  });

  it("keeps a story reply's story and files", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "instagram");
    const body = metaFixture("instagram-dm-story-reply", {
      "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18034567890123457": `${cdn.url}/media/story.jpg?asset_id=18034567890123457`,
    });
    expect((await postSigned(t, inbox, body)).json()).toMatchObject({ stored: 1 });
    const [message] = await messagesOf(t.workspace.id);
    expect(message?.attachments).toMatchObject([{ name: "story.jpg", contentType: "image/jpeg" }]);
    expect(message?.metadata).toMatchObject({
      story: { id: "18034567890123456", url: expect.stringContaining("lookaside.fbsbx.com") },
      attachments: [{ type: "image" }],
    });
  });
});

describe("Meta webhooks: bad input stores nothing", () => {
  async function refused(
    t: TestWorkspace,
    res: { statusCode: number; json(): unknown },
    status: number,
    code: string,
  ) {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
    expect(await conversationsOf(t.workspace.id)).toHaveLength(0);
    expect(await findByIdentifier(await db(), t.workspace.id, "messenger_psid", PSID, "US")).toBeUndefined();
  }

  it("refuses a missing, forged, other-secret or re-serialised signature with 403", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    const body = metaFixture("messenger-text");
    await refused(t, await post(t, inbox, body, undefined), 403, "meta.signature_forbidden");
    await refused(t, await post(t, inbox, body, `sha256=${"0".repeat(64)}`), 403, "meta.signature_forbidden");
    await refused(t, await post(t, inbox, body, "not-a-signature"), 403, "meta.signature_forbidden");
    await refused(
      t,
      await post(t, inbox, body, signMeta(body, "another-app-secret")),
      403,
      "meta.signature_forbidden",
    );
    // signed over other bytes than those posted (a proxy that re-serialised the JSON)
    const compact = JSON.stringify(JSON.parse(body));
    await refused(t, await post(t, inbox, body, signMeta(compact, SECRET)), 403, "meta.signature_forbidden");
    const tampered = body.replace("Can you help?", "Refund me now");
    await refused(t, await post(t, inbox, tampered, signMeta(body, SECRET)), 403, "meta.signature_forbidden");
  });

  it("refuses an unknown object, another object than the inbox's, a shape it cannot read, or broken JSON with 400", async () => {
    const t = await createTestWorkspace();
    const inbox = await metaInbox(t, "messenger");
    await refused(
      t,
      await postSigned(t, inbox, metaFixture("whatsapp-unknown-object")),
      400,
      "meta.unknown_object",
    );
    const instagram = await metaInbox(t, "instagram");
    await refused(
      t,
      await postSigned(t, instagram, metaFixture("messenger-text")),
      400,
      "meta.object_mismatch",
    );
    await refused(
      t,
      await postSigned(t, inbox, metaFixture("instagram-comment")),
      400,
      "meta.object_mismatch",
    );
    // a readable message, then one without a mid: neither is stored
    const text = JSON.parse(metaFixture("messenger-text"));
    const [event] = text.entry[0].messaging;
    const broken = JSON.stringify({
      object: "page",
      entry: [{ id: PAGE, time: 1, messaging: [event, { ...event, message: { text: "no mid" } }] }],
    });
    const res = await postSigned(t, inbox, broken);
    await refused(t, res, 400, "meta.invalid_payload");
    expect(res.json()).toMatchObject({ error: { details: { path: "entry.0.messaging.1.message.mid" } } });
    await refused(t, await postSigned(t, inbox, '{"object":"page","entry":'), 400, "meta.malformed_json");
    await refused(t, await postSigned(t, inbox, '{"entry":[]}'), 400, "meta.invalid_payload");
  });

  it("answers 404 for an inbox of another kind and 403 while the inbox's settings are incomplete", async () => {
    const t = await createTestWorkspace();
    const sms = await createInbox(await db(), t.workspace.id, {
      kind: "sms",
      name: "SMS",
      address: "+14155550100",
    });
    const body = metaFixture("messenger-text");
    await refused(t, await postSigned(t, sms, body), 404, "meta.inbox_not_found");
    const unset = await createInbox(await db(), t.workspace.id, {
      kind: "messenger",
      name: "New page",
      address: PAGE,
    });
    await refused(t, await postSigned(t, unset, body), 403, "meta.forbidden");
    const get = await app.inject({
      method: "GET",
      url: `${webhookPath(t, unset)}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`,
    });
    expect(get.statusCode).toBe(403);
  });
});
