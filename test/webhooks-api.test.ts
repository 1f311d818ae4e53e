import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { rows } from "../src/db/client.ts";
import { deliverAttempt } from "../src/delivery/webhooks/deliver.ts";
import { createEndpoint, updateEndpoint } from "../src/delivery/webhooks/endpoints.ts";
import { DeliverJob } from "../src/delivery/webhooks/job.ts";
import { isAppError } from "../src/errors.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { listAudit } from "../src/platform/audit.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from "./support/fake-webhook-receiver.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
let receiver: FakeWebhookReceiver;

beforeAll(async () => {
  app = await testApp();
  receiver = await startFakeWebhookReceiver();
});
afterAll(async () => {
  await app?.close();
  await receiver?.close();
});

type Auth = { headers?: Record<string, string>; cookies?: Record<string, string> };
const bearer = (key: string): Auth => ({ headers: { authorization: `Bearer ${key}` } });
const call = (auth: Auth, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
  app.inject({ method, url, ...auth, ...(payload ? { payload } : {}) });
const base = "/api/v1/webhooks/endpoints";

async function storedEndpoints(workspaceId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    app.ctx.database.db,
    sql`SELECT count(*)::int AS n FROM webhook_endpoints WHERE workspace_id = ${workspaceId}`,
  );
  return r?.n ?? -1;
}

describe("webhook endpoints over the API", () => {
  it("lets an owner create, read, change, rotate and delete an endpoint, each audited", async () => {
    const owner = await signedIn(app, "owner");
    const ws = owner.workspace.id;
    const created = await call({ cookies: owner.cookies }, "POST", base, {
      url: receiver.url(`/owner-${uuidv7()}`),
      description: "CRM sync",
      eventTypes: ["delivery.sent", "delivery.sent", "consent.changed"],
      allowPrivate: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const endpoint = created.json().endpoint;
    expect(endpoint).toMatchObject({
      description: "CRM sync",
      eventTypes: ["delivery.sent", "consent.changed"],
      allowPrivate: true,
      enabled: true,
      disabledAt: null,
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const got = await call({ cookies: owner.cookies }, "GET", `${base}/${endpoint.id}`);
    expect(got.json().endpoint.secret).toBe(endpoint.secret);

    const disabled = await call({ cookies: owner.cookies }, "PATCH", `${base}/${endpoint.id}`, {
      enabled: false,
    });
    expect(disabled.json().endpoint).toMatchObject({
      enabled: false,
      disabledReason: `disabled by user ${owner.user.id}`,
    });
    const enabled = await call({ cookies: owner.cookies }, "PATCH", `${base}/${endpoint.id}`, {
      enabled: true,
      eventTypes: [],
    });
    expect(enabled.json().endpoint).toMatchObject({
      enabled: true,
      disabledAt: null,
      disabledReason: null,
      eventTypes: [],
    });

    const rotated = await call({ cookies: owner.cookies }, "POST", `${base}/${endpoint.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().endpoint.secret).toMatch(/^whsec_/);
    expect(rotated.json().endpoint.secret).not.toBe(endpoint.secret);

    const deleted = await call({ cookies: owner.cookies }, "DELETE", `${base}/${endpoint.id}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().endpoint.secret).toBeUndefined();
    expect((await call({ cookies: owner.cookies }, "GET", `${base}/${endpoint.id}`)).statusCode).toBe(404);

    const actions = (await listAudit(app.ctx.database.db, ws)).entries
      .map((e) => e.action)
      .filter((a) => a.startsWith("webhook_endpoint."))
      .reverse();
    expect(actions).toEqual([
      "webhook_endpoint.created",
      "webhook_endpoint.updated",
      "webhook_endpoint.updated",
      "webhook_endpoint.secret_rotated",
      "webhook_endpoint.deleted",
    ]);
    const entries = (await listAudit(app.ctx.database.db, ws)).entries;
    expect(JSON.stringify(entries)).not.toContain(endpoint.secret);
  });

  it("lets agents read endpoints and messages without secrets, and nothing more", async () => {
    const agent = await signedIn(app, "agent");
    const ws = agent.workspace.id;
    const endpoint = await createEndpoint(
      app.ctx.database.db,
      ws,
      { url: receiver.url("/agent-view"), allowPrivate: true },
      { kind: "system" },
    );
    const auth = { cookies: agent.cookies };
    const list = await call(auth, "GET", base);
    expect(list.statusCode).toBe(200);
    expect(list.json().data).toHaveLength(1);
    expect(list.json().data[0].secret).toBeUndefined();
    expect(list.body).not.toContain(endpoint.secret);
    const one = await call(auth, "GET", `${base}/${endpoint.id}`);
    expect(one.json().endpoint).toMatchObject({ id: endpoint.id });
    expect(one.body).not.toContain(endpoint.secret);
    expect((await call(auth, "GET", `${base}/${endpoint.id}/messages`)).statusCode).toBe(200);

    const refused = [
      await call(auth, "POST", base, { url: "https://hooks.example.com/x" }),
      await call(auth, "POST", base, { url: receiver.url("/agent"), allowPrivate: true }),
      await call(auth, "PATCH", `${base}/${endpoint.id}`, { description: "mine now" }),
      await call(auth, "PATCH", `${base}/${endpoint.id}`, { allowPrivate: false }),
      await call(auth, "POST", `${base}/${endpoint.id}/rotate-secret`),
      await call(auth, "POST", `${base}/${endpoint.id}/test`),
      await call(auth, "DELETE", `${base}/${endpoint.id}`),
    ];
    for (const res of refused) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe("auth.forbidden");
    }
    expect(await storedEndpoints(ws)).toBe(1);
    const after = await call(auth, "GET", `${base}/${endpoint.id}`);
    expect(after.json().endpoint).toMatchObject({ description: "", allowPrivate: true });
  });

  it("refuses allowPrivate from anyone but owners and admins in the domain too", async () => {
    const ws = (await createTestWorkspace(app.ctx.database)).workspace.id;
    const agent = { kind: "user" as const, id: uuidv7(), role: "agent" as const };
    const admin = { kind: "user" as const, id: uuidv7(), role: "admin" as const };
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        if (isAppError(err)) return err.code;
        throw err;
      }
      return "accepted";
    };
    const db = app.ctx.database.db;
    expect(await code(createEndpoint(db, ws, { url: receiver.url("/x"), allowPrivate: true }, agent))).toBe(
      "webhooks.allow_private_forbidden",
    );
    expect(await code(createEndpoint(db, ws, { url: "https://93.184.216.34/x" }, agent))).toBe(
      "webhooks.forbidden",
    );
    const made = await createEndpoint(db, ws, { url: receiver.url("/x"), allowPrivate: true }, admin);
    expect(await code(updateEndpoint(db, ws, made.id, { allowPrivate: true }, agent))).toBe(
      "webhooks.allow_private_forbidden",
    );
    expect(await storedEndpoints(ws)).toBe(1);
  });

  it.each([
    ["http://127.0.0.1:8080/hook", "webhooks.url_forbidden", /127\.0\.0\.1 is a loopback address/],
    ["http://localhost/hook", "webhooks.url_forbidden", /localhost resolves to .*, a loopback address/],
    ["https://10.0.0.5/hook", "webhooks.url_forbidden", /10\.0\.0\.5 is a private address/],
    ["http://169.254.169.254/latest/meta-data/", "webhooks.url_forbidden", /cloud metadata address/],
    ["http://2130706433/", "webhooks.url_forbidden", /127\.0\.0\.1 is a loopback address/],
    [
      "http://[::ffff:127.0.0.1]/",
      "webhooks.url_forbidden",
      /::ffff:7f00:1 is an IPv4-mapped IPv6 form of 127\.0\.0\.1, a loopback address/,
    ],
    ["http://100.64.1.1/", "webhooks.url_forbidden", /carrier-grade NAT/],
    ["ftp://hooks.example.com/in", "webhooks.invalid_url", /must use https: \(or http:\), not ftp:/],
    ["https://alice:s3cret@hooks.example.com/in", "webhooks.invalid_url", /user name or password/],
    ["hooks.example.com/in", "webhooks.invalid_url", /not a URL/],
  ])("refuses %s with 400 %s and stores nothing", async (url, code, message) => {
    const t = await createTestWorkspace(app.ctx.database);
    const res = await call(bearer(t.secretKey), "POST", base, { url });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(res.json().error.message).toMatch(message);
    if (code === "webhooks.url_forbidden")
      expect(res.json().error.message).toMatch(/allowPrivate|cannot be allowed/);
    expect(await storedEndpoints(t.workspace.id)).toBe(0);
    expect((await listAudit(app.ctx.database.db, t.workspace.id)).entries).toEqual([]);
  });

  it("names unknown event types and bad fields", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const auth = bearer(t.secretKey);
    const unknown = await call(auth, "POST", base, {
      url: receiver.url("/types"),
      allowPrivate: true,
      eventTypes: ["delivery.sent", "delivery.sending"],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: "webhooks.unknown_event_type",
      details: { unknown: ["delivery.sending"] },
    });
    expect(unknown.json().error.message).toContain("delivery.delivered");
    const noUrl = await call(auth, "POST", base, { description: "x" });
    expect(noUrl.json().error).toMatchObject({ code: "request.invalid" });
    expect(noUrl.json().error.message).toContain("url");
    const badId = await call(auth, "GET", `${base}/not-an-id`);
    expect(badId.statusCode).toBe(400);
    const empty = await call(auth, "PATCH", `${base}/${uuidv7()}`, {});
    expect(empty.statusCode).toBe(400);
    expect(await storedEndpoints(t.workspace.id)).toBe(0);
  });

  it("checks a changed URL again and leaves the endpoint as it was when refused", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const auth = bearer(t.secretKey);
    const created = (
      await call(auth, "POST", base, { url: receiver.url("/patch"), allowPrivate: true })
    ).json().endpoint;
    const moved = await call(auth, "PATCH", `${base}/${created.id}`, {
      url: "http://192.168.1.10/x",
      allowPrivate: false,
    });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().error.code).toBe("webhooks.url_forbidden");
    const tightened = await call(auth, "PATCH", `${base}/${created.id}`, { allowPrivate: false });
    expect(tightened.json().error.code).toBe("webhooks.url_forbidden");
    const now = (await call(auth, "GET", `${base}/${created.id}`)).json().endpoint;
    expect(now).toMatchObject({ url: created.url, allowPrivate: true, secret: created.secret });
  });

  it("keeps workspaces apart", async () => {
    const a = await createTestWorkspace(app.ctx.database);
    const b = await createTestWorkspace(app.ctx.database);
    const created = (
      await call(bearer(a.secretKey), "POST", base, { url: receiver.url("/a"), allowPrivate: true })
    ).json().endpoint;
    for (const [method, suffix] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["GET", "/messages"],
      ["POST", "/test"],
      ["POST", "/rotate-secret"],
    ] as const) {
      const res = await call(
        bearer(b.secretKey),
        method,
        `${base}/${created.id}${suffix}`,
        method === "PATCH" ? { description: "b" } : undefined,
      );
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("webhooks.endpoint_not_found");
    }
    expect((await call(bearer(b.secretKey), "GET", base)).json().data).toEqual([]);
  });
});

describe("test events", () => {
  it("sends webhook.test to that endpoint only, verifiable with the secret the admin was shown", async () => {
    const admin = await signedIn(app, "admin");
    const auth = { cookies: admin.cookies };
    const path = `/test-event-${uuidv7()}`;
    const target = (
      await call(auth, "POST", base, {
        url: receiver.url(path),
        allowPrivate: true,
        eventTypes: ["consent.changed"],
      })
    ).json().endpoint;
    const other = (
      await call(auth, "POST", base, { url: receiver.url(`${path}-other`), allowPrivate: true })
    ).json().endpoint;

    const res = await call(auth, "POST", `${base}/${target.id}/test`);
    expect(res.statusCode, res.body).toBe(202);
    const message = res.json().message;
    expect(message).toMatchObject({
      endpointId: target.id,
      eventType: "webhook.test",
      state: "pending",
      attempts: 0,
    });
    expect((await call(auth, "GET", `${base}/${other.id}/messages`)).json().data).toEqual([]);

    const db = app.ctx.database.db;
    const jobs = await rows<{ payload: unknown; queue: string }>(
      db,
      sql`SELECT payload, queue FROM jobs WHERE workspace_id = ${admin.workspace.id} AND task = 'webhooks.deliver'`,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.queue).toBe("webhooks");
    const job = DeliverJob.parse(jobs[0]?.payload);
    await db.execute(sql`DELETE FROM jobs WHERE workspace_id = ${admin.workspace.id}`);
    await deliverAttempt(db, job, { queue: "webhooks" });
    const [got] = receiver.to(path);
    const verified = z
      .object({ type: z.string(), data: z.object({ endpointId: z.string() }) })
      .parse(new Webhook(target.secret).verify(got!.body, got!.headers));
    expect(verified).toMatchObject({ type: "webhook.test", data: { endpointId: target.id } });
    expect(got?.headers["webhook-id"]).toBe(message.id);

    const page = await call(auth, "GET", `${base}/${target.id}/messages?limit=1`);
    expect(page.json()).toMatchObject({
      data: [{ id: message.id, state: "succeeded", attempts: 1, lastStatus: 200 }],
      nextCursor: null,
    });
    const audit = await listAudit(db, admin.workspace.id, { action: "webhook_endpoint.test_sent" });
    expect(audit.entries).toHaveLength(1);
  });

  it("pages through messages and refuses a test to a disabled endpoint", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const auth = bearer(t.secretKey);
    const endpoint = (
      await call(auth, "POST", base, { url: receiver.url("/pages"), allowPrivate: true })
    ).json().endpoint;
    for (let i = 0; i < 3; i++)
      expect((await call(auth, "POST", `${base}/${endpoint.id}/test`)).statusCode).toBe(202);
    const first = (await call(auth, "GET", `${base}/${endpoint.id}/messages?limit=2`)).json();
    expect(first.data).toHaveLength(2);
    const second = (
      await call(auth, "GET", `${base}/${endpoint.id}/messages?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(second).toMatchObject({ nextCursor: null });
    expect(second.data).toHaveLength(1);
    expect(new Set([...first.data, ...second.data].map((m: { id: string }) => m.id)).size).toBe(3);
    const bad = await call(auth, "GET", `${base}/${endpoint.id}/messages?state=lost`);
    expect(bad.statusCode).toBe(400);

    await call(auth, "PATCH", `${base}/${endpoint.id}`, { enabled: false });
    const refused = await call(auth, "POST", `${base}/${endpoint.id}/test`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe("webhooks.endpoint_disabled");
    expect(refused.json().error.message).toContain('"enabled": true');
  });
});
