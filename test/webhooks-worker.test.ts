import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookPayload } from "../src/contracts/webhooks.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { emitWebhookEvent } from "../src/delivery/webhooks/dispatch.ts";
import { createEndpoint, updateEndpoint } from "../src/delivery/webhooks/endpoints.ts";
import { listMessages } from "../src/delivery/webhooks/messages.ts";
import { createDeliverTask } from "../src/delivery/webhooks/tasks.ts";
import { uuidv7 } from "../src/ids.ts";
import { createWorker, type Worker } from "../src/jobs/index.ts";
import type { Actor } from "../src/platform/roles.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from "./support/fake-webhook-receiver.ts";
import { silentLogger, sleep, uniqueQueue, waitFor } from "./support/job-helpers.ts";

// The real path end to end: emit in a transaction, a worker from createWorker claims the job
// and delivers it, retries come back through the jobs table. The queue is this file's own (the
// jobs table is shared on PostgreSQL) and the task has short delays, given as options.

const database = await testDatabase();
const db = database.db;
const queue = uniqueQueue("webhooks");
const task = createDeliverTask({
  retry: { delaysMs: [100, 100, 100], jitter: "none", maxRetryAfterMs: 10_000 },
  timeoutMs: 2000,
});
const workers: Worker[] = [];
let receiver: FakeWebhookReceiver;
const owner: Actor = { kind: "user", id: uuidv7(), role: "owner" };

function startWorker(): Promise<void> {
  const w = createWorker({
    database,
    logger: silentLogger,
    tasks: [task],
    queues: { [queue]: 2 },
    pollMs: 50,
  });
  workers.push(w);
  return w.start();
}

beforeAll(async () => {
  receiver = await startFakeWebhookReceiver();
  await startWorker();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop({ timeoutMs: 5000 })));
  await receiver?.close();
});

const emit = (ws: string, type: string, data: Record<string, unknown> = {}) =>
  db.transaction((tx) => emitWebhookEvent(tx, ws, type, data, { queue }));

/** Waits until no message of the workspace is pending any more. */
async function settled(ws: string): Promise<void> {
  await waitFor("every webhook message to settle", async () => {
    const [r] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM webhook_messages WHERE workspace_id = ${ws} AND state = 'pending'`,
    );
    return r?.n === 0;
  });
}

describe("webhooks delivered by a worker", () => {
  it("delivers a committed event once to each subscribed endpoint, signed, and nothing for a rolled-back one", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const run = uuidv7();
    const paths = {
      all: `/all-${run}`,
      sent: `/sent-${run}`,
      consent: `/consent-${run}`,
      off: `/off-${run}`,
    };
    const all = await createEndpoint(db, ws, { url: receiver.url(paths.all), allowPrivate: true }, owner);
    const sent = await createEndpoint(
      db,
      ws,
      { url: receiver.url(paths.sent), allowPrivate: true, eventTypes: ["delivery.sent", "delivery.failed"] },
      owner,
    );
    await createEndpoint(
      db,
      ws,
      { url: receiver.url(paths.consent), allowPrivate: true, eventTypes: ["consent.changed"] },
      owner,
    );
    const off = await createEndpoint(db, ws, { url: receiver.url(paths.off), allowPrivate: true }, owner);
    await updateEndpoint(db, ws, off.id, { enabled: false }, owner);

    const rolledBack = new Error("rolled back on purpose");
    await expect(
      db.transaction(async (tx) => {
        expect(await emitWebhookEvent(tx, ws, "delivery.sent", { n: "rolled back" }, { queue })).toBe(2);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    const [left] = await rows<{ messages: number; jobs: number }>(
      db,
      sql`SELECT (SELECT count(*)::int FROM webhook_messages WHERE workspace_id = ${ws}) AS messages,
        (SELECT count(*)::int FROM jobs WHERE workspace_id = ${ws}) AS jobs`,
    );
    expect(left).toEqual({ messages: 0, jobs: 0 });

    expect(await emit(ws, "delivery.sent", { n: "committed" })).toBe(2);
    await receiver.waitFor(1, paths.all);
    await receiver.waitFor(1, paths.sent);
    await settled(ws);

    expect(receiver.to(paths.consent)).toHaveLength(0);
    expect(receiver.to(paths.off)).toHaveLength(0);
    for (const [path, endpoint] of [
      [paths.all, all],
      [paths.sent, sent],
    ] as const) {
      const got = receiver.to(path);
      expect(got).toHaveLength(1);
      const [request] = got;
      const payload = new Webhook(endpoint.secret).verify(request!.body, request!.headers);
      expect(payload).toMatchObject({ type: "delivery.sent", data: { n: "committed" } });
      expect(Date.parse(WebhookPayload.parse(payload).timestamp)).not.toBeNaN();
      const tampered = request!.body.replace("committed", "committeD");
      expect(() => new Webhook(endpoint.secret).verify(tampered, request!.headers)).toThrow();
      // the other endpoint's secret does not verify it either
      const other = endpoint === all ? sent : all;
      expect(() => new Webhook(other.secret).verify(request!.body, request!.headers)).toThrow();
    }
    const messages = await listMessages(db, ws, all.id);
    expect(messages.data).toMatchObject([
      { state: "succeeded", attempts: 1, lastStatus: 200, eventType: "delivery.sent" },
    ]);
  });

  it("retries a 500 through the jobs table and delivers with the same webhook-id", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const path = `/retry-${uuidv7()}`;
    const endpoint = await createEndpoint(db, ws, { url: receiver.url(path), allowPrivate: true }, owner);
    receiver.script(path, [{ status: 500 }]);
    await emit(ws, "delivery.failed", { reason: "bounced" });
    const got = await receiver.waitFor(2, path);
    await settled(ws);
    expect(got.map((r) => r.headers["webhook-id"])).toEqual([
      got[0]?.headers["webhook-id"],
      got[0]?.headers["webhook-id"],
    ]);
    for (const r of got) expect(() => new Webhook(endpoint.secret).verify(r.body, r.headers)).not.toThrow();
    expect((await listMessages(db, ws, endpoint.id)).data).toMatchObject([
      { state: "succeeded", attempts: 2 },
    ]);
  });

  it("waits at least Retry-After seconds after a 429", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const path = `/slow-down-${uuidv7()}`;
    await createEndpoint(db, ws, { url: receiver.url(path), allowPrivate: true }, owner);
    receiver.script(path, [{ status: 429, headers: { "retry-after": "2" } }]);
    await emit(ws, "delivery.opened");
    const [first, second] = await receiver.waitFor(2, path, 15_000);
    // the task's own schedule would come back after 100 ms
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
  });

  it("delivers each message once while two workers race for them", async () => {
    await startWorker();
    const ws = (await createTestWorkspace()).workspace.id;
    const path = `/race-${uuidv7()}`;
    await createEndpoint(db, ws, { url: receiver.url(path), allowPrivate: true }, owner);
    await db.transaction(async (tx) => {
      for (let i = 0; i < 20; i++) await emitWebhookEvent(tx, ws, "delivery.delivered", { i }, { queue });
    });
    await receiver.waitFor(20, path);
    await settled(ws);
    // a duplicate would arrive after the last first delivery: give it the time to
    await sleep(300);
    const ids = receiver.to(path).map((r) => r.headers["webhook-id"]);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });
});
