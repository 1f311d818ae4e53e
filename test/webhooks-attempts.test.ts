import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { type DeliverOptions, deliverAttempt } from "../src/delivery/webhooks/deliver.ts";
import { emitWebhookEvent } from "../src/delivery/webhooks/dispatch.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  rotateSecret,
} from "../src/delivery/webhooks/endpoints.ts";
import { DeliverJob } from "../src/delivery/webhooks/job.ts";
import { getMessage } from "../src/delivery/webhooks/messages.ts";
import type { Resolve } from "../src/delivery/webhooks/ssrf.ts";
import { uuidv7 } from "../src/ids.ts";
import { listAudit } from "../src/platform/audit.ts";
import type { Actor } from "../src/platform/roles.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from "./support/fake-webhook-receiver.ts";
import { uniqueQueue } from "./support/job-helpers.ts";

// Attempts are driven one at a time here, taking each queued job from the jobs table and
// running the real handler on it, so every intermediate state can be checked without racing
// a worker. test/webhooks-worker.test.ts runs the same path through real workers.

const db = (await testDatabase()).db;
let receiver: FakeWebhookReceiver;
const owner = (): Actor => ({ kind: "user", id: uuidv7(), role: "owner" });
const options: DeliverOptions = {
  retry: { delaysMs: [1000, 1000, 1000], jitter: "none", maxRetryAfterMs: 10_000 },
  timeoutMs: 400,
};

beforeAll(async () => {
  receiver = await startFakeWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const QueuedJob = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  payload: DeliverJob,
  queue: z.string(),
  runAtMs: z.coerce.number(),
});

/** The webhook jobs of a workspace still waiting, oldest first. */
async function queued(workspaceId: string) {
  const found = await rows<unknown>(
    db,
    sql`SELECT id::text AS id, payload, queue, (extract(epoch FROM run_at) * 1000)::float8 AS "runAtMs"
      FROM jobs WHERE workspace_id = ${workspaceId} AND task = 'webhooks.deliver' AND state = 'queued' ORDER BY id`,
  );
  return found.map((r) => QueuedJob.parse(r));
}

/** Takes the oldest queued attempt of the workspace, as a worker would, and runs the handler on it. */
async function runNext(workspaceId: string, opts: DeliverOptions = options) {
  const [job] = await queued(workspaceId);
  if (!job) throw new Error("no queued webhook job");
  await db.execute(sql`DELETE FROM jobs WHERE id = ${job.id}::bigint`);
  return { job, outcome: await deliverAttempt(db, job.payload, { queue: job.queue }, opts) };
}

async function setUp(path: string, input: { eventTypes?: string[] } = {}) {
  const ws = (await createTestWorkspace()).workspace.id;
  const endpoint = await createEndpoint(
    db,
    ws,
    { url: receiver.url(path), allowPrivate: true, ...input },
    owner(),
  );
  const queue = uniqueQueue("webhooks");
  const emit = (type = "delivery.sent", data: Record<string, unknown> = { deliveryId: uuidv7() }) =>
    db.transaction((tx) => emitWebhookEvent(tx, ws, type, data, { queue }));
  return { ws, endpoint, emit, queue };
}

function verify(secret: string, body: string, headers: Record<string, string>) {
  return new Webhook(secret).verify(body, headers);
}

describe("one delivery attempt at a time", () => {
  it("retries a 500 and succeeds with the same webhook-id, two attempts recorded", async () => {
    const path = `/p500-${uuidv7()}`;
    const { ws, endpoint, emit, queue } = await setUp(path);
    receiver.script(path, [{ status: 500, body: "database on fire" }]);
    expect(await emit()).toBe(1);

    const first = await runNext(ws);
    expect(first.job.queue).toBe(queue);
    expect(first.outcome).toMatchObject({ state: "pending", status: 500, retryInMs: 1000 });
    const messageId = first.job.payload.messageId;
    expect(await getMessage(db, ws, messageId)).toMatchObject({
      state: "pending",
      attempts: 1,
      lastStatus: 500,
      lastError: "HTTP 500: database on fire",
    });
    const [retry] = await queued(ws);
    expect(retry?.payload).toEqual({ workspaceId: ws, messageId, attempt: 2 });
    expect(retry?.queue).toBe(queue);
    expect(retry!.runAtMs - receiver.to(path)[0]!.at).toBeGreaterThanOrEqual(1000);

    // the first attempt's job running again (a crash after recording) sends nothing
    expect(await deliverAttempt(db, first.job.payload, { queue }, options)).toBeUndefined();
    expect(receiver.to(path)).toHaveLength(1);

    expect((await runNext(ws)).outcome).toMatchObject({ state: "succeeded", status: 200 });
    expect(await getMessage(db, ws, messageId)).toMatchObject({
      state: "succeeded",
      attempts: 2,
      lastStatus: 200,
      lastError: null,
    });
    const got = receiver.to(path);
    expect(got).toHaveLength(2);
    expect(got.map((r) => r.headers["webhook-id"])).toEqual([messageId, messageId]);
    for (const r of got) {
      expect(verify(endpoint.secret, r.body, r.headers)).toMatchObject({ type: "delivery.sent" });
      expect(r.headers["user-agent"]).toMatch(/Rapport/);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    expect(got[0]?.body).toBe(got[1]?.body);
    expect(await queued(ws)).toEqual([]);
  });

  it("disables the endpoint on 410 Gone and attempts nothing more", async () => {
    const path = `/p410-${uuidv7()}`;
    const { ws, endpoint, emit } = await setUp(path);
    receiver.script(path, [{ status: 410 }]);
    await emit();
    await emit();
    const first = await runNext(ws);
    expect(first.outcome).toMatchObject({ state: "failed", status: 410 });
    expect(await getMessage(db, ws, first.job.payload.messageId)).toMatchObject({
      state: "failed",
      attempts: 1,
    });
    const after = await getEndpoint(db, ws, endpoint.id);
    expect(after).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/410 Gone/) });
    expect(after.disabledAt).toBeInstanceOf(Date);
    const audit = await listAudit(db, ws, { action: "webhook_endpoint.disabled" });
    expect(audit.entries).toHaveLength(1);

    // the other message already queued finds the endpoint disabled and is not sent
    const second = await runNext(ws);
    expect(second.outcome).toMatchObject({
      state: "failed",
      error: expect.stringMatching(/not sent: the endpoint is disabled/),
    });
    expect(await getMessage(db, ws, second.job.payload.messageId)).toMatchObject({
      attempts: 0,
      state: "failed",
    });
    expect(await queued(ws)).toEqual([]);
    expect(await emit()).toBe(0);
    expect(receiver.to(path)).toHaveLength(1);
  });

  it("waits for Retry-After on a 429 before the next attempt", async () => {
    const path = `/p429-${uuidv7()}`;
    const { ws, emit } = await setUp(path);
    receiver.script(path, [{ status: 429, headers: { "retry-after": "2" } }]);
    await emit();
    const { outcome } = await runNext(ws);
    expect(outcome).toMatchObject({ state: "pending", status: 429, retryInMs: 2000 });
    const [retry] = await queued(ws);
    // the schedule alone would retry after 1 s: this is the receiver's 2 s
    expect(retry!.runAtMs - receiver.to(path)[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it("does not follow a redirect: a 302 is a failure, retried", async () => {
    const path = `/p302-${uuidv7()}`;
    const elsewhere = `/elsewhere-${uuidv7()}`;
    const { ws, emit } = await setUp(path);
    receiver.script(path, [{ status: 302, headers: { location: receiver.url(elsewhere) } }]);
    await emit();
    const { job, outcome } = await runNext(ws);
    expect(outcome).toMatchObject({ state: "pending", status: 302 });
    const message = await getMessage(db, ws, job.payload.messageId);
    expect(message).toMatchObject({ attempts: 1, lastStatus: 302, state: "pending" });
    expect(message.lastError).toContain(`redirect to ${receiver.url(elsewhere)} not followed`);
    expect(receiver.to(elsewhere)).toHaveLength(0);
    expect(await queued(ws)).toHaveLength(1);
  });

  it("records a receiver that hangs as a timeout and retries it", async () => {
    const path = `/hang-${uuidv7()}`;
    const { ws, emit } = await setUp(path);
    receiver.script(path, ["hang"]);
    await emit();
    const started = Date.now();
    const { job, outcome } = await runNext(ws);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(outcome).toMatchObject({ state: "pending", status: null, error: "timed out after 400 ms" });
    expect(await getMessage(db, ws, job.payload.messageId)).toMatchObject({
      attempts: 1,
      lastStatus: null,
      lastError: "timed out after 400 ms",
    });
    expect((await runNext(ws)).outcome).toMatchObject({ state: "succeeded" });
    expect(receiver.to(path)).toHaveLength(2);
  });

  it("fails a message for good once its attempts are used up", async () => {
    const path = `/gone-for-good-${uuidv7()}`;
    const { ws, emit } = await setUp(path);
    receiver.script(
      path,
      [500, 502, 503, 504].map((status) => ({ status })),
    );
    await emit();
    for (let i = 0; i < 3; i++) expect((await runNext(ws)).outcome?.state).toBe("pending");
    const last = await runNext(ws);
    expect(last.outcome).toMatchObject({ state: "failed", status: 504 });
    expect(await getMessage(db, ws, last.job.payload.messageId)).toMatchObject({
      state: "failed",
      attempts: 4,
      lastError: "HTTP 504 (gave up after 4 attempts)",
    });
    expect(await queued(ws)).toEqual([]);
  });

  it("signs a retry with the endpoint's current secret after a rotation", async () => {
    const path = `/rotate-${uuidv7()}`;
    const { ws, endpoint, emit } = await setUp(path);
    receiver.script(path, [{ status: 500 }]);
    await emit();
    await runNext(ws);
    const rotated = await rotateSecret(db, ws, endpoint.id, owner());
    expect(rotated.secret).not.toBe(endpoint.secret);
    await runNext(ws);
    const [before, after] = receiver.to(path);
    // each attempt verifies with the secret in force when it was signed, and carries the event
    expect(verify(endpoint.secret, before!.body, before!.headers)).toEqual(JSON.parse(before!.body));
    expect(verify(rotated.secret, after!.body, after!.headers)).toEqual(JSON.parse(after!.body));
    expect(() => verify(endpoint.secret, after!.body, after!.headers)).toThrow();
  });

  it("sends nothing for the pending messages of a deleted endpoint", async () => {
    const path = `/deleted-${uuidv7()}`;
    const { ws, endpoint, emit } = await setUp(path);
    await emit();
    await deleteEndpoint(db, ws, endpoint.id, owner());
    expect((await runNext(ws)).outcome).toBeUndefined();
    expect(receiver.to(path)).toHaveLength(0);
  });
});

describe("the address is checked again at every send", () => {
  const fixed =
    (address: string): Resolve =>
    async () => [{ address, family: 4 }];

  it("refuses a host that resolved publicly when saved and privately when sent", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const host = `rebind-${uuidv7().slice(-8)}.example.test`;
    const path = `/rebind-${uuidv7()}`;
    const url = `http://${host}:${receiver.port}${path}`;
    await createEndpoint(db, ws, { url }, owner(), { resolve: fixed("93.184.216.34") });
    const queue = uniqueQueue("webhooks");
    await db.transaction((tx) => emitWebhookEvent(tx, ws, "delivery.sent", {}, { queue }));
    const { job, outcome } = await runNext(ws, { ...options, resolve: fixed("127.0.0.1") });
    expect(outcome).toMatchObject({ state: "pending", status: null });
    const message = await getMessage(db, ws, job.payload.messageId);
    expect(message.lastError).toContain(`${host} resolves to 127.0.0.1, a loopback address`);
    expect(receiver.to(path)).toHaveLength(0);
  });

  it("connects to the address it checked, not to a second DNS answer", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    // this name exists nowhere: only the pinned address can take the request to the receiver
    const host = `pinned-${uuidv7().slice(-8)}.example.test`;
    const path = `/pinned-${uuidv7()}`;
    await createEndpoint(
      db,
      ws,
      { url: `http://${host}:${receiver.port}${path}`, allowPrivate: true },
      owner(),
      {
        resolve: fixed("127.0.0.1"),
      },
    );
    const queue = uniqueQueue("webhooks");
    await db.transaction((tx) => emitWebhookEvent(tx, ws, "delivery.sent", {}, { queue }));
    let lookups = 0;
    const counting: Resolve = async () => {
      lookups += 1;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    expect((await runNext(ws, { ...options, resolve: counting })).outcome?.state).toBe("succeeded");
    expect(lookups).toBe(1);
    const [got] = receiver.to(path);
    expect(got?.headers.host).toBe(`${host}:${receiver.port}`);
  });
});
