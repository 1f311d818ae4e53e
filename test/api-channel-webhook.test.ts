import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareApiInboxConfig } from "../src/channels/api/config.ts";
import { deliverApiReply } from "../src/channels/api/deliver.ts";
import { ApiReplyJob, type ReplyWebhook } from "../src/channels/api/fate.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import type { DeliverOptions } from "../src/delivery/webhooks/deliver.ts";
import { isAppError } from "../src/errors.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from "./support/fake-webhook-receiver.ts";

// An agent's reply on an API inbox goes to the source's webhook, signed per Standard Webhooks
// (checked with the official `standardwebhooks` package), retried with backoff, its fate kept on
// the message. The attempts run here by calling the task's handler with the job the reply
// enqueued, taken off the jobs table so no other worker can claim it.

let app: App;
let db: Db;
let receiver: FakeWebhookReceiver;
const options: DeliverOptions = {
  retry: { delaysMs: [50, 50], jitter: "none", maxRetryAfterMs: 1000 },
  timeoutMs: 2000,
};

beforeAll(async () => {
  app = await testApp();
  db = app.ctx.database.db;
  receiver = await startFakeWebhookReceiver();
});
afterAll(async () => {
  await app?.close();
  await receiver?.close();
});

async function apiInbox(t: TestWorkspace, config: Record<string, unknown>) {
  return createInbox(db, t.workspace.id, { kind: "api", name: "Our app", config });
}

/**
 * An inbox whose stored settings were never checked (written before the checks, or by hand):
 * creating one checks them now, so the test stores them over a valid inbox's.
 */
async function uncheckedApiInbox(t: TestWorkspace, config: Record<string, unknown>) {
  const inbox = await apiInbox(t, {});
  await db.execute(
    sql`UPDATE inboxes SET config = ${JSON.stringify(config)}::jsonb WHERE workspace_id = ${t.workspace.id} AND id = ${inbox.id}`,
  );
  return inbox;
}

/** A customer's message through the API channel, then an agent's reply to it; returns the reply's id. */
async function exchange(t: TestWorkspace, inboxId: string) {
  const auth = { authorization: `Bearer ${t.secretKey}` };
  const inbound = await app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${inboxId}/messages`,
    headers: auth,
    payload: {
      from: { userId: "user-42", email: "ada@example.com" },
      text: "My order is late",
      messageId: "src-msg-1",
      threadKey: "ticket-7",
    },
  });
  expect(inbound.statusCode).toBe(201);
  const { conversationId, customerId } = inbound.json<{ conversationId: string; customerId: string }>();
  const reply = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: auth,
    payload: { text: "It ships today.", html: "<p>It ships <b>today</b>.</p>" },
  });
  expect(reply.statusCode).toBe(201);
  return { conversationId, customerId, messageId: reply.json<{ messageId: string }>().messageId };
}

/** Takes the job of one attempt off the table (so only this test runs it). */
async function takeJob(ws: string, messageId: string, attempt: number) {
  const [row] = await rows<{ payload: unknown; delayed: boolean }>(
    db,
    sql`DELETE FROM jobs WHERE dedupe_key = ${`api-reply:${ws}:${messageId}:${attempt}`}
        RETURNING payload, run_at > now() AS delayed`,
  );
  return row ? { job: ApiReplyJob.parse(row.payload), delayed: row.delayed } : undefined;
}

async function fateOf(ws: string, messageId: string): Promise<ReplyWebhook | undefined> {
  const [row] = await rows<{ webhook: ReplyWebhook | null }>(
    db,
    sql`SELECT metadata->'webhook' AS webhook FROM conversation_messages WHERE workspace_id = ${ws} AND id = ${messageId}`,
  );
  return row?.webhook ?? undefined;
}

describe("the API channel's webhook for agents' replies", () => {
  it("posts the reply signed per Standard Webhooks, with the thread and the customer's ids", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const path = `/replies-${uuidv7()}`;
    const config = await prepareApiInboxConfig({ webhookUrl: receiver.url(path), allowPrivate: true });
    const secret = String(config.webhookSecret);
    expect(secret).toMatch(/^whsec_/);
    const inbox = await apiInbox(t, config);
    const { conversationId, customerId, messageId } = await exchange(t, inbox.id);
    expect(await fateOf(t.workspace.id, messageId)).toMatchObject({ state: "pending", attempts: 0 });

    const taken = await takeJob(t.workspace.id, messageId, 1);
    expect(taken?.delayed).toBe(false);
    const outcome = await deliverApiReply(
      db,
      taken?.job ?? { workspaceId: "", messageId: "", attempt: 1 },
      {},
      options,
    );
    expect(outcome).toMatchObject({ state: "succeeded", status: 200 });

    const [request] = receiver.to(path);
    expect(request?.headers["webhook-id"]).toBe(messageId);
    // the official library accepts the signature over the exact body
    const verified = new Webhook(secret).verify(request?.body ?? "", request?.headers ?? {});
    expect(verified).toEqual({
      type: "message.created",
      timestamp: expect.any(String),
      data: {
        messageId,
        conversationId,
        inboxId: inbox.id,
        direction: "outbound",
        threadKey: "ticket-7",
        inReplyTo: "src-msg-1",
        customer: { id: customerId, userId: "user-42", email: "ada@example.com", phone: null },
        authorId: null,
        text: "It ships today.",
        html: "<p>It ships <b>today</b>.</p>",
        createdAt: expect.any(String),
      },
    });
    // another secret does not verify it
    const other = await prepareApiInboxConfig({});
    expect(() =>
      new Webhook(String(other.webhookSecret)).verify(request?.body ?? "", request?.headers ?? {}),
    ).toThrow();
    expect(await fateOf(t.workspace.id, messageId)).toMatchObject({
      state: "succeeded",
      attempts: 1,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    // the same attempt run again sends nothing more
    expect(await deliverApiReply(db, taken?.job ?? ApiReplyJob.parse({}), {}, options)).toBeUndefined();
    expect(receiver.to(path)).toHaveLength(1);
  });

  it("retries a failing receiver with backoff under the same webhook-id, then gives up", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const path = `/flaky-${uuidv7()}`;
    receiver.script(path, [{ status: 500, body: "down" }, { status: 200 }]);
    const inbox = await apiInbox(
      t,
      await prepareApiInboxConfig({ webhookUrl: receiver.url(path), allowPrivate: true }),
    );
    const { messageId } = await exchange(t, inbox.id);
    const first = await takeJob(t.workspace.id, messageId, 1);
    expect(await deliverApiReply(db, first?.job ?? ApiReplyJob.parse({}), {}, options)).toMatchObject({
      state: "pending",
      status: 500,
    });
    expect(await fateOf(t.workspace.id, messageId)).toMatchObject({
      state: "pending",
      attempts: 1,
      lastStatus: 500,
      lastError: "HTTP 500: down",
    });
    const second = await takeJob(t.workspace.id, messageId, 2);
    expect(second?.job.attempt).toBe(2);
    expect(await deliverApiReply(db, second?.job ?? ApiReplyJob.parse({}), {}, options)).toMatchObject({
      state: "succeeded",
    });
    const ids = receiver.to(path).map((r) => r.headers["webhook-id"]);
    expect(ids).toEqual([messageId, messageId]);

    // a receiver that never recovers: three attempts (two retries), then failed for good
    const deadPath = `/dead-${uuidv7()}`;
    receiver.script(deadPath, [{ status: 503 }, { status: 503 }, { status: 503 }]);
    const dead = await apiInbox(
      t,
      await prepareApiInboxConfig({ webhookUrl: receiver.url(deadPath), allowPrivate: true }),
    );
    const lost = await exchange(t, dead.id);
    for (const attempt of [1, 2, 3]) {
      const taken = await takeJob(t.workspace.id, lost.messageId, attempt);
      await deliverApiReply(db, taken?.job ?? ApiReplyJob.parse({}), {}, options);
    }
    expect(await takeJob(t.workspace.id, lost.messageId, 4)).toBeUndefined();

    // 410 Gone: this reply is not retried
    const gonePath = `/gone-${uuidv7()}`;
    receiver.script(gonePath, [{ status: 410 }]);
    const gone = await apiInbox(
      t,
      await prepareApiInboxConfig({ webhookUrl: receiver.url(gonePath), allowPrivate: true }),
    );
    const goneReply = await exchange(t, gone.id);
    const goneJob = await takeJob(t.workspace.id, goneReply.messageId, 1);
    await deliverApiReply(db, goneJob?.job ?? ApiReplyJob.parse({}), {}, options);
    expect(await takeJob(t.workspace.id, goneReply.messageId, 2)).toBeUndefined();
    expect(await fateOf(t.workspace.id, goneReply.messageId)).toMatchObject({
      state: "failed",
      attempts: 1,
      lastStatus: 410,
    });
    expect(await fateOf(t.workspace.id, lost.messageId)).toMatchObject({
      state: "failed",
      attempts: 3,
      lastError: "HTTP 503 (gave up after 3 attempts)",
    });
  });

  it("never posts to a private address: refused when the inbox is set up, and again at send time", async () => {
    const refusal = await prepareApiInboxConfig({ webhookUrl: receiver.url("/x") }).catch((e: unknown) => e);
    expect(isAppError(refusal, "webhooks.url_forbidden")).toBe(true);
    const metadata = await prepareApiInboxConfig({
      webhookUrl: "http://169.254.169.254/latest/meta-data",
      allowPrivate: true,
    }).catch((e: unknown) => e);
    expect(isAppError(metadata, "webhooks.url_forbidden")).toBe(true);

    // creating an inbox with a private URL is refused, and nothing is stored
    const t = await createTestWorkspace(app.ctx.database);
    const path = `/private-${uuidv7()}`;
    const created = await app.inject({
      method: "POST",
      url: "/api/v1/inboxes",
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: { kind: "api", name: "Our app", config: { webhookUrl: receiver.url(path) } },
    });
    expect(created.statusCode).toBe(400);
    expect(created.json().error.code).toBe("webhooks.url_forbidden");
    expect(
      (
        await app.inject({
          method: "GET",
          url: "/api/v1/inboxes",
          headers: { authorization: `Bearer ${t.secretKey}` },
        })
      ).json().data ?? [],
    ).toEqual([]);

    // an inbox whose settings were never checked: the worker refuses at send time, once and for all
    const inbox = await uncheckedApiInbox(t, {
      webhookUrl: receiver.url(path),
      webhookSecret: String((await prepareApiInboxConfig({})).webhookSecret),
    });
    const { messageId } = await exchange(t, inbox.id);
    const taken = await takeJob(t.workspace.id, messageId, 1);
    expect(await deliverApiReply(db, taken?.job ?? ApiReplyJob.parse({}), {}, options)).toMatchObject({
      state: "failed",
    });
    expect(receiver.to(path)).toHaveLength(0);
    expect(await takeJob(t.workspace.id, messageId, 2)).toBeUndefined();
    const fate = await fateOf(t.workspace.id, messageId);
    expect(fate).toMatchObject({ state: "failed", attempts: 1 });
    expect(fate?.lastError).toContain("not sent: Rapport does not send webhooks to internal addresses");

    // a host that resolved outside when saved and resolves inside now (DNS changed): a failed attempt, retried
    const named = await uncheckedApiInbox(t, {
      webhookUrl: "https://hooks.brand.example/rapport",
      webhookSecret: String((await prepareApiInboxConfig({})).webhookSecret),
    });
    const second = await exchange(t, named.id);
    const job = await takeJob(t.workspace.id, second.messageId, 1);
    const resolve = async () => [{ address: "10.0.0.8", family: 4 as const }];
    expect(
      await deliverApiReply(db, job?.job ?? ApiReplyJob.parse({}), {}, { ...options, resolve }),
    ).toMatchObject({
      state: "pending",
    });
    expect((await takeJob(t.workspace.id, second.messageId, 2))?.delayed).toBe(true);
  });

  it("makes the signing secret when the inbox is created, and shows it to the admin who created it", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const created = await app.inject({
      method: "POST",
      url: "/api/v1/inboxes",
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: {
        kind: "api",
        name: "Our app",
        config: { webhookUrl: receiver.url("/made"), allowPrivate: true },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().config.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
  });

  it("marks a reply failed at once when the inbox has no webhook URL or secret, enqueuing nothing", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    for (const [config, why] of [
      [{}, "the inbox has no webhookUrl"],
      [{ webhookUrl: "https://hooks.brand.example/x" }, "the inbox has no webhookSecret"],
      [
        { webhookUrl: "https://hooks.brand.example/x", webhookSecret: "plain" },
        "the inbox's settings are invalid",
      ],
    ] as const) {
      const inbox = await uncheckedApiInbox(t, config);
      const { messageId } = await exchange(t, inbox.id);
      const fate = await fateOf(t.workspace.id, messageId);
      expect(fate).toMatchObject({ state: "failed", attempts: 0 });
      expect(fate?.lastError).toContain(`not sent: ${why}`);
      expect(await takeJob(t.workspace.id, messageId, 1)).toBeUndefined();
    }
  });

  it("checks the inbox's settings: a bad URL or secret is refused with what to fix; a given secret is kept", async () => {
    const bad = [
      [{ webhookUrl: "ftp://brand.example/x" }, "webhooks.invalid_url"],
      [{ webhookUrl: "https://user:pw@brand.example/x" }, "webhooks.invalid_url"],
      [{ webhookUrl: "not a url" }, "webhooks.invalid_url"],
      [{ webhookSecret: "whsec_short" }, "api_channel.invalid_config"],
      [{ allowPrivate: "yes" }, "api_channel.invalid_config"],
    ] as const;
    for (const [config, code] of bad) {
      const err = await prepareApiInboxConfig(config).catch((e: unknown) => e);
      expect(isAppError(err, code), JSON.stringify(config)).toBe(true);
    }
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(await prepareApiInboxConfig({ webhookSecret: secret })).toEqual({ webhookSecret: secret });
  });

  it("replying to an unknown or another workspace's conversation is 404 and queues nothing", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const other = await createTestWorkspace(app.ctx.database);
    const inbox = await apiInbox(t, {});
    const { conversationId } = await exchange(t, inbox.id);
    for (const [who, id] of [
      [other, conversationId],
      [t, uuidv7()],
    ] as const) {
      const res = await app.inject({
        method: "POST",
        url: `/api/v1/conversations/${id}/messages`,
        headers: { authorization: `Bearer ${who.secretKey}` },
        payload: { text: "hello" },
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: "conversations.conversation_not_found" } });
    }
  });
});
