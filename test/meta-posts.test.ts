import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostTask, fetchMetaPost, PostJob, postJobSpec } from "../src/channels/meta/posts.ts";
import { conversationsTopic } from "../src/conversations/inbound.ts";
import type { Inbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { createWorker, enqueue, PermanentJobError } from "../src/jobs/index.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { type FakeGraph, graphError, metaFixture, startFakeGraph } from "./support/fake-graph.ts";
import { silentLogger, uniqueQueue, waitFor } from "./support/job-helpers.ts";
import { metaTestInbox, PAGE, postMetaWebhook, TOKEN } from "./support/meta-webhook.ts";

// A comment names its post but carries none of it: the comment's transaction queues a job that
// reads the post from the Graph API (the fake here), once per inbox and post, and the
// conversation then shows it. Jobs are taken off the table and run here (or by a worker of
// this test's own queue), so no other test's worker runs them.

const FB_POST = "109876543210987_122134567890123456";
const IG_MEDIA = "18012345678901234";
const FB_PERMALINK = "https://www.facebook.com/melodia/posts/122134567890123456";

let app: App;
let db: Db;
let graph: FakeGraph;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  db = app.ctx.database.db;
  graph = await startFakeGraph(TOKEN);
  graph.setPost(FB_POST, {
    message: "Offline mode is here for everyone on Premium ✈️",
    permalink_url: FB_PERMALINK,
    full_picture: "https://scontent.xx.fbcdn.net/v/t39.30808-6/offline.jpg?oh=00_AbC&oe=67A1B2C3",
    created_time: "2024-11-24T09:28:20+0000",
  });
  graph.setPost(IG_MEDIA, {
    caption: "Your year in music is ready 🎧 What was your top song?",
    permalink: "https://www.instagram.com/p/C8xYz12AbCd/",
    media_type: "VIDEO",
    media_url: "https://scontent.cdninstagram.com/o1/v/t16/wrapped.mp4",
    thumbnail_url: "https://scontent.cdninstagram.com/v/t51.29350-15/wrapped.jpg",
    timestamp: "2024-11-23T18:00:00+0000",
  });
});
afterAll(async () => {
  await app?.close();
  await graph?.close();
});

function metaInbox(t: TestWorkspace, kind: "messenger" | "instagram", config: object = {}) {
  return metaTestInbox(db, t.workspace.id, kind, graph.graphBaseUrl, config);
}

function webhook(t: TestWorkspace, inbox: Inbox, body: string) {
  return postMetaWebhook(app, t.workspace.id, inbox.id, body);
}

/** A Facebook comment on `post` by another commenter (ids of their own). */
function fbComment(n: number, post = FB_POST) {
  const postNumber = post.split("_")[1] ?? "";
  return metaFixture("feed-comment", {
    "7012345678901234": String(7012345678901000 + n),
    "Sam Rivera": `Commenter ${n}`,
    "122134567890123456_1098765432109876": `${postNumber}_${1098765432109000 + n}`,
    [FB_POST]: post,
  });
}

const jobKey = (t: TestWorkspace, inbox: Inbox, post: string) =>
  `meta.fetch_post:${t.workspace.id}:${inbox.id}:${post}`;

/** The post's queued jobs. */
async function queued(t: TestWorkspace, inbox: Inbox, post: string) {
  return rows<{ state: string; attempts: number; lastError: string | null }>(
    db,
    sql`SELECT state, attempts, last_error AS "lastError" FROM jobs WHERE dedupe_key = ${jobKey(t, inbox, post)}`,
  );
}

/** Takes the post's job off the table, so only this test runs it. */
async function takeJob(t: TestWorkspace, inbox: Inbox, post: string): Promise<PostJob> {
  const [row] = await rows<{ payload: unknown }>(
    db,
    sql`DELETE FROM jobs WHERE dedupe_key = ${jobKey(t, inbox, post)} AND state = 'queued' RETURNING payload`,
  );
  if (!row) throw new Error(`no job queued for ${post}`);
  return PostJob.parse(row.payload);
}

/** Runs the post's job through a worker of this test's own queue (retries a millisecond apart). */
async function runWithWorker(t: TestWorkspace, inbox: Inbox, post: string, until: () => Promise<boolean>) {
  await runJob(await takeJob(t, inbox, post), `the post ${post} to be read`, until);
}

/** Runs a post job through a worker of this test's own queue until `until` holds. */
async function runJob(job: Awaited<ReturnType<typeof takeJob>>, what: string, until: () => Promise<boolean>) {
  const queue = uniqueQueue("posts");
  await enqueue(db, { ...postJobSpec(job), queue });
  const worker = createWorker({
    database: app.ctx.database,
    tasks: [createPostTask({ backoff: { baseMs: 1, maxMs: 1, jitter: "none" } })],
    queues: { [queue]: 1 },
    pollMs: 20,
    logger: silentLogger,
  });
  await worker.start();
  try {
    await waitFor(what, until);
  } finally {
    await worker.stop();
  }
}

async function conversationIds(t: TestWorkspace): Promise<string[]> {
  const found = await rows<{ id: string }>(
    db,
    sql`SELECT id::text AS id FROM conversations WHERE workspace_id = ${t.workspace.id} ORDER BY created_at, id`,
  );
  return found.map((r) => r.id);
}

async function getConversation(t: TestWorkspace, id: string) {
  return app.inject({
    method: "GET",
    url: `/api/v1/conversations/${id}`,
    headers: { authorization: `Bearer ${t.secretKey}` },
  });
}

async function postRow(t: TestWorkspace, inbox: Inbox, post: string) {
  const [row] = await rows<{
    text: string | null;
    lastError: string | null;
    attempts: number;
    fetched: boolean;
  }>(
    db,
    sql`SELECT text, last_error AS "lastError", attempts, fetched_at IS NOT NULL AS fetched FROM social_posts
        WHERE workspace_id = ${t.workspace.id} AND inbox_id = ${inbox.id} AND external_id = ${post}`,
  );
  return row;
}

const readsOf = (post: string, from: number) =>
  graph.requests.slice(from).filter((r) => r.method === "GET" && r.path.startsWith(`/v21.0/${post}?`));

describe("the post a comment belongs to", () => {
  it("a Facebook comment queues the post's reading; once read, the conversation shows its text, picture, link and time, and open screens are told", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    expect(await webhook(t, inbox, metaFixture("feed-comment"))).toMatchObject({ stored: 1 });
    const [conversationId = ""] = await conversationIds(t);

    // queued with the comment: the conversation shows the post as pending, with the webhook's link
    expect(await queued(t, inbox, FB_POST)).toEqual([{ state: "queued", attempts: 0, lastError: null }]);
    const pending = await getConversation(t, conversationId);
    expect(pending.statusCode).toBe(200);
    expect(pending.json().post).toEqual({
      id: FB_POST,
      text: null,
      permalinkUrl:
        "https://www.facebook.com/permalink.php?story_fbid=pfbid02xRc7bPv2mQwq6n1Jh8&id=109876543210987",
      mediaUrl: null,
      postedAt: null,
      status: "pending",
    });

    const heard: unknown[] = [];
    const stop = app.bus.subscribe(conversationsTopic(t.workspace.id), (m) => heard.push(m));
    const from = graph.requests.length;
    try {
      expect(await fetchMetaPost(db, await takeJob(t, inbox, FB_POST))).toBe("stored");
      await waitFor("the conversation's screens to be told", () => heard.length > 0);
    } finally {
      stop();
    }
    expect(heard).toEqual([{ type: "conversation.updated", conversationId, changes: ["post"] }]);
    const [call, ...more] = readsOf(FB_POST, from);
    expect(more).toEqual([]);
    expect(call).toMatchObject({
      method: "GET",
      path: `/v21.0/${FB_POST}?fields=message,permalink_url,full_picture,created_time`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });

    const ready = await getConversation(t, conversationId);
    expect(ready.json().post).toEqual({
      id: FB_POST,
      text: "Offline mode is here for everyone on Premium ✈️",
      permalinkUrl: FB_PERMALINK,
      mediaUrl: "https://scontent.xx.fbcdn.net/v/t39.30808-6/offline.jpg?oh=00_AbC&oe=67A1B2C3",
      postedAt: expect.stringMatching(/^2024-11-24T09:28:20/),
      status: "ready",
    });
    expect(new Date(ready.json().post.postedAt).toISOString()).toBe("2024-11-24T09:28:20.000Z");
    // the API's description says so too
    const spec = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const schema =
      spec.paths["/api/v1/conversations/{id}"].get.responses["200"].content["application/json"].schema;
    expect(JSON.stringify(schema)).toContain("permalinkUrl");

    // running the job again (a retry after a lost lease) asks Graph nothing
    expect(await fetchMetaPost(db, { workspaceId: t.workspace.id, inboxId: inbox.id, postId: FB_POST })).toBe(
      "already_stored",
    );
    expect(readsOf(FB_POST, from)).toHaveLength(1);
  });

  it("an Instagram comment shows the media's caption, and a video's thumbnail as its picture", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "instagram");
    expect(await webhook(t, inbox, metaFixture("instagram-comment"))).toMatchObject({ stored: 1 });
    const [conversationId = ""] = await conversationIds(t);
    const from = graph.requests.length;
    expect(await fetchMetaPost(db, await takeJob(t, inbox, IG_MEDIA))).toBe("stored");
    expect(readsOf(IG_MEDIA, from).map((r) => r.path)).toEqual([
      `/v21.0/${IG_MEDIA}?fields=caption,permalink,media_url,thumbnail_url,media_type,timestamp`,
    ]);
    expect((await getConversation(t, conversationId)).json().post).toEqual({
      id: IG_MEDIA,
      text: "Your year in music is ready 🎧 What was your top song?",
      permalinkUrl: "https://www.instagram.com/p/C8xYz12AbCd/",
      mediaUrl: "https://scontent.cdninstagram.com/v/t51.29350-15/wrapped.jpg",
      postedAt: expect.stringMatching(/^2024-11-23T18:00:00/),
      status: "ready",
    });
  });

  it("other channels' conversations and DMs have no post", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, metaFixture("messenger-text"));
    const [dm = ""] = await conversationIds(t);
    const res = await getConversation(t, dm);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: dm, channel: "messenger", post: null });
    expect(await rows(db, sql`SELECT 1 FROM jobs WHERE workspace_id = ${t.workspace.id}`)).toEqual([]);
  });

  it("many comments on one post read it once: one job while it waits, none once it is read", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, fbComment(1));
    await webhook(t, inbox, fbComment(2));
    const ids = await conversationIds(t);
    expect(ids).toHaveLength(2);
    expect(await queued(t, inbox, FB_POST)).toHaveLength(1);

    const from = graph.requests.length;
    expect(await fetchMetaPost(db, await takeJob(t, inbox, FB_POST))).toBe("stored");
    // a third commenter after the post was read queues nothing
    await webhook(t, inbox, fbComment(3));
    expect(await queued(t, inbox, FB_POST)).toEqual([]);
    expect(readsOf(FB_POST, from)).toHaveLength(1);
    expect(await postRow(t, inbox, FB_POST)).toMatchObject({ attempts: 1, lastError: null, fetched: true });
    const all = await conversationIds(t);
    expect(all).toHaveLength(3);
    for (const id of all) {
      expect((await getConversation(t, id)).json().post).toMatchObject({ id: FB_POST, status: "ready" });
    }
  });

  it("a post Graph will not give (404) is unavailable with the reason kept, its link still shown, and not asked for again and again", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    const gone = `${PAGE}_122134567890999999`;
    await webhook(t, inbox, fbComment(1, gone));
    const [conversationId = ""] = await conversationIds(t);
    const from = graph.requests.length;
    graph.answerNext(graphError(404, 100, "(#100) This post was deleted", { subcode: 33 }));
    const job = await takeJob(t, inbox, gone);
    // the job fails for good at its first attempt (the runtime never retries it)
    await expect(fetchMetaPost(db, job)).rejects.toBeInstanceOf(PermanentJobError);
    expect(readsOf(gone, from)).toHaveLength(1);
    expect(await postRow(t, inbox, gone)).toMatchObject({
      text: null,
      attempts: 1,
      fetched: true,
      lastError: "meta_error: 100/33 (#100) This post was deleted",
    });
    const post = (await getConversation(t, conversationId)).json().post;
    expect(post).toMatchObject({ id: gone, status: "unavailable", text: null });
    expect(post.permalinkUrl).toMatch(/^https:\/\/www\.facebook\.com\//);

    // through the runtime: one attempt, then the job is failed with the reason
    await webhook(t, inbox, fbComment(2, gone));
    expect(await queued(t, inbox, gone)).toEqual([]);
    await db.execute(
      sql`UPDATE social_posts SET fetched_at = now() - interval '2 hours' WHERE workspace_id = ${t.workspace.id}`,
    );
    // an hour later, a new comment asks once more (a permission may have been granted)
    await webhook(t, inbox, fbComment(3, gone));
    expect(await queued(t, inbox, gone)).toHaveLength(1);
    graph.answerNext(graphError(404, 100, "(#100) This post was deleted", { subcode: 33 }));
    await runJob(
      await takeJob(t, inbox, gone),
      "the job to fail",
      async () => (await queued(t, inbox, gone))[0]?.state === "failed",
    );
    expect(await queued(t, inbox, gone)).toEqual([
      { state: "failed", attempts: 1, lastError: expect.stringContaining("This post was deleted") },
    ]);
    expect(readsOf(gone, from)).toHaveLength(2);
    expect(await postRow(t, inbox, gone)).toMatchObject({
      attempts: 2,
      lastError: expect.stringContaining("deleted"),
    });
  });

  it("Graph's 500 is retried by the job runtime, and the next answer is stored", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    await webhook(t, inbox, fbComment(1));
    const [conversationId = ""] = await conversationIds(t);
    const from = graph.requests.length;
    graph.answerNext({ status: 500, body: { error: { message: "An unknown error occurred", code: 1 } } });
    await runWithWorker(t, inbox, FB_POST, async () => (await postRow(t, inbox, FB_POST))?.fetched === true);
    expect(readsOf(FB_POST, from)).toHaveLength(2);
    expect(await postRow(t, inbox, FB_POST)).toMatchObject({ attempts: 2, lastError: null });
    expect(await queued(t, inbox, FB_POST)).toEqual([]);
    expect((await getConversation(t, conversationId)).json().post).toMatchObject({
      status: "ready",
      text: "Offline mode is here for everyone on Premium ✈️",
    });
  });

  it("an inbox without a page access token records why, and asks Graph nothing", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "instagram", { pageAccessToken: undefined });
    await webhook(t, inbox, metaFixture("instagram-comment"));
    const from = graph.requests.length;
    await expect(fetchMetaPost(db, await takeJob(t, inbox, IG_MEDIA))).rejects.toBeInstanceOf(
      PermanentJobError,
    );
    expect(graph.requests.length).toBe(from);
    expect(await postRow(t, inbox, IG_MEDIA)).toMatchObject({
      lastError: "the inbox has no page access token to read the post with",
    });
  });

  it("another workspace never sees a post: its conversation is not found, and the same post id is its own", async () => {
    const a = await createTestWorkspace(app.ctx.database);
    const b = await createTestWorkspace(app.ctx.database);
    const inboxA = await metaInbox(a, "messenger");
    const inboxB = await metaInbox(b, "messenger");
    await webhook(a, inboxA, fbComment(1));
    await fetchMetaPost(db, await takeJob(a, inboxA, FB_POST));
    const [conversationA = ""] = await conversationIds(a);

    const foreign = await getConversation(b, conversationA);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ error: { code: "conversations.conversation_not_found" } });
    expect(foreign.body).not.toContain("Offline mode");

    // workspace B connected the same page: its comment's post waits for B's own reading
    await webhook(b, inboxB, fbComment(1));
    const [conversationB = ""] = await conversationIds(b);
    expect((await getConversation(b, conversationB)).json().post).toMatchObject({
      id: FB_POST,
      text: null,
      status: "pending",
    });
  });

  it("a post's text is data: markup and script come back as the same plain string", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await metaInbox(t, "messenger");
    const xss = `${PAGE}_122134567890555555`;
    const payload = `<img src=x onerror="alert(document.domain)"><script>alert(1)</script>"'&{{7*7}}\u0000`;
    graph.setPost(xss, {
      message: payload,
      permalink_url: "javascript:alert(1)",
      full_picture: "data:image/svg+xml,<svg onload=alert(1)>",
    });
    await webhook(t, inbox, fbComment(1, xss));
    const [conversationId = ""] = await conversationIds(t);
    await fetchMetaPost(db, await takeJob(t, inbox, xss));
    const res = await getConversation(t, conversationId);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    // NUL cannot be stored; everything else is kept as written, and links of other schemes are dropped
    expect(res.json().post).toEqual({
      id: xss,
      text: payload.replace("\u0000", ""),
      permalinkUrl: expect.stringMatching(/^https:\/\/www\.facebook\.com\//),
      mediaUrl: null,
      postedAt: null,
      status: "ready",
    });
  });
});
