import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createInAppProvider } from "../src/delivery/providers/in-app.ts";
import type { OutboundMessage } from "../src/delivery/providers/types.ts";
import type { RenderedContent } from "../src/delivery/tables.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

// reading a message records its delivery as opened: checked on the calls, the engine's tests
// cover what recording does to the ledger
const recordProviderStatus = vi.hoisted(() => vi.fn(async () => true));
vi.mock("../src/delivery/status.ts", () => ({ recordProviderStatus }));

let app: App;
let t: TestWorkspace;
let secret: string;
beforeAll(async () => {
  app = await testApp();
  t = await createTestWorkspace();
  secret = (await getMessagingSettings((await testDatabase()).db, t.workspace.id)).identitySecret;
});
afterAll(async () => app?.close());
beforeEach(() => recordProviderStatus.mockClear());

const db = async () => (await testDatabase()).db;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

/** A customer holding a fresh user id, with the headers its app sends. */
async function appUser(workspace: TestWorkspace = t) {
  const userId = `user-${uuidv7()}`;
  const { customerId } = await identify(await db(), workspace.workspace.id, {
    identifiers: [{ kind: "user_id", value: userId }],
    reason: "test",
    defaultCountry: "US",
  });
  const s = await getMessagingSettings(await db(), workspace.workspace.id);
  const userHash = appUserHash(s.identitySecret, userId);
  const headers = {
    authorization: basic(workspace.writeKey),
    "x-rapport-user-id": userId,
    "x-rapport-user-hash": userHash,
  };
  return { userId, customerId, userHash, headers };
}

async function store(
  customerId: string,
  content: Partial<RenderedContent> = {},
  deliveryId = uuidv7(),
  workspaceId = t.workspace.id,
) {
  const message: OutboundMessage = {
    workspaceId,
    deliveryId,
    customerId,
    channel: "in_app",
    to: customerId,
    content: { title: "Welcome", text: "Glad you are here", ...content },
    idempotencyKey: deliveryId,
  };
  return createInAppProvider(await db()).send(message, new AbortController().signal);
}

async function stored(customerId: string, content: Partial<RenderedContent> = {}): Promise<string> {
  const r = await store(customerId, content);
  if (!r.ok) throw new Error(r.reason);
  return r.providerMessageId;
}

function call(method: "GET" | "POST" | "DELETE", url: string, headers: Record<string, string>) {
  return app.inject({ method, url, headers });
}

describe("in-app message center", () => {
  it("stores a delivery once, and lists it with the unread count", async () => {
    const u = await appUser();
    const deliveryId = uuidv7();
    const first = await store(u.customerId, { data: { deepLink: "app://offers/1" } }, deliveryId);
    const retry = await store(u.customerId, { text: "changed on retry" }, deliveryId);
    expect(first).toMatchObject({ ok: true, state: "delivered" });
    expect(retry).toEqual(first);
    const [count] = await rows<{ n: number }>(
      await db(),
      sql`SELECT count(*)::int AS n FROM in_app_messages WHERE workspace_id = ${t.workspace.id} AND delivery_id = ${deliveryId}`,
    );
    expect(count?.n).toBe(1);
    const list = await call("GET", "/api/v1/app/messages", u.headers);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toEqual({
      data: [
        {
          id: first.ok ? first.providerMessageId : "",
          title: "Welcome",
          body: "Glad you are here",
          data: { deepLink: "app://offers/1" },
          state: "unread",
          createdAt: expect.any(String),
          readAt: null,
          expiresAt: null,
        },
      ],
      nextCursor: null,
    });
    const unread = await call("GET", "/api/v1/app/messages/unread-count", u.headers);
    expect(unread.json()).toEqual({ unread: 1 });
  });

  it("pages newest first with a cursor, and explains a bad one", async () => {
    const u = await appUser();
    const ids = [await stored(u.customerId), await stored(u.customerId), await stored(u.customerId)];
    const page1 = (await call("GET", "/api/v1/app/messages?limit=2", u.headers)).json();
    expect(page1.data.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);
    const page2 = (
      await call("GET", `/api/v1/app/messages?limit=2&cursor=${page1.nextCursor}`, u.headers)
    ).json();
    expect(page2).toMatchObject({ data: [{ id: ids[0] }], nextCursor: null });
    const bad = await call("GET", "/api/v1/app/messages?cursor=nonsense", u.headers);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("request.invalid_cursor");
  });

  it("reads, archives and deletes, each idempotently", async () => {
    const u = await appUser();
    const id = await stored(u.customerId);
    const other = await stored(u.customerId);
    const read = await call("POST", `/api/v1/app/messages/${id}/read`, u.headers);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ id, state: "read", readAt: expect.any(String) });
    expect(recordProviderStatus).toHaveBeenCalledTimes(1);
    expect(recordProviderStatus).toHaveBeenCalledWith(expect.anything(), t.workspace.id, {
      provider: "in_app",
      providerMessageId: id,
      state: "opened",
      details: { source: "message_center" },
    });
    const again = await call("POST", `/api/v1/app/messages/${id}/read`, u.headers);
    expect(again.json()).toEqual(read.json());
    expect(recordProviderStatus).toHaveBeenCalledTimes(1);
    expect((await call("GET", "/api/v1/app/messages/unread-count", u.headers)).json()).toEqual({ unread: 1 });

    const archived = await call("POST", `/api/v1/app/messages/${other}/archive`, u.headers);
    expect(archived.json()).toMatchObject({ id: other, state: "archived", readAt: null });
    expect((await call("POST", `/api/v1/app/messages/${other}/archive`, u.headers)).statusCode).toBe(200);
    const inbox = (await call("GET", "/api/v1/app/messages", u.headers)).json();
    expect(inbox.data.map((m: { id: string }) => m.id)).toEqual([id]);
    const archive = (await call("GET", "/api/v1/app/messages?state=archived", u.headers)).json();
    expect(archive.data.map((m: { id: string }) => m.id)).toEqual([other]);
    // an archived message no longer counts as unread
    expect((await call("GET", "/api/v1/app/messages/unread-count", u.headers)).json()).toEqual({ unread: 0 });

    expect((await call("DELETE", `/api/v1/app/messages/${id}`, u.headers)).statusCode).toBe(204);
    expect((await call("DELETE", `/api/v1/app/messages/${id}`, u.headers)).statusCode).toBe(204);
    expect((await call("GET", "/api/v1/app/messages", u.headers)).json().data).toEqual([]);
    const gone = await call("POST", `/api/v1/app/messages/${id}/read`, u.headers);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("message_center.message_not_found");

    // agents still see every message, deleted ones included
    const agent = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${u.customerId}/in-app-messages`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(agent.statusCode, agent.body).toBe(200);
    expect(agent.json().data).toEqual([
      expect.objectContaining({ id: other, state: "archived", customerId: u.customerId, expired: false }),
      expect.objectContaining({ id, state: "deleted", deliveryId: expect.any(String) }),
    ]);
  });

  it("refuses a bad user hash, missing identity and a bad write key with 401", async () => {
    const u = await appUser();
    const badHash = { ...u.headers, "x-rapport-user-hash": appUserHash("another secret", u.userId) };
    const res = await call("GET", "/api/v1/app/messages", badHash);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("message_center.unauthorized");
    // a hash for another user id does not prove this one
    const swapped = { ...u.headers, "x-rapport-user-id": `${u.userId}-other` };
    expect((await call("GET", "/api/v1/app/messages/unread-count", swapped)).statusCode).toBe(401);
    const { "x-rapport-user-hash": _h, ...noHash } = u.headers;
    expect((await call("GET", "/api/v1/app/messages", noHash)).statusCode).toBe(401);
    const noKey = { ...u.headers, authorization: basic("wk_nope") };
    expect((await call("GET", "/api/v1/app/messages", noKey)).json().error.code).toBe("auth.unauthorized");
    // another workspace's write key: the hash was made with this workspace's secret
    const elsewhere = await createTestWorkspace();
    expect(
      (await call("GET", "/api/v1/app/messages", { ...u.headers, authorization: basic(elsewhere.writeKey) }))
        .statusCode,
    ).toBe(401);
    const stream = await call(
      "GET",
      `/api/v1/app/messages/stream?writeKey=${t.writeKey}&userId=${u.userId}&userHash=${"0".repeat(64)}`,
      {},
    );
    expect(stream.statusCode).toBe(401);
  });

  it("answers 404 for another customer's message and 400 for a malformed id", async () => {
    const me = await appUser();
    const them = await appUser();
    const theirs = await stored(them.customerId);
    for (const [method, url] of [
      ["POST", `/api/v1/app/messages/${theirs}/read`],
      ["POST", `/api/v1/app/messages/${theirs}/archive`],
      ["DELETE", `/api/v1/app/messages/${theirs}`],
    ] as const) {
      const res = await call(method, url, me.headers);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await call("GET", "/api/v1/app/messages/unread-count", them.headers)).json()).toEqual({
      unread: 1,
    });
    const bad = await call("POST", "/api/v1/app/messages/42/read", me.headers);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("message_center.invalid_id");
    // an agent of another workspace does not find the customer
    const elsewhere = await createTestWorkspace();
    const agent = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${them.customerId}/in-app-messages`,
      headers: { authorization: `Bearer ${elsewhere.secretKey}` },
    });
    expect(agent.statusCode).toBe(404);
  });

  it("hides expired messages, and refuses an expiry that is not a date", async () => {
    const u = await appUser();
    const past = await stored(u.customerId, { data: { expiresAt: "2020-01-01T00:00:00Z" } });
    const future = await stored(u.customerId, { data: { expiresAt: "2999-01-01T00:00:00+02:00" } });
    const list = (await call("GET", "/api/v1/app/messages", u.headers)).json();
    expect(list.data.map((m: { id: string }) => m.id)).toEqual([future]);
    expect(list.data[0].expiresAt).toBe("2998-12-31T22:00:00.000Z");
    expect((await call("GET", "/api/v1/app/messages/unread-count", u.headers)).json()).toEqual({ unread: 1 });
    expect((await call("POST", `/api/v1/app/messages/${past}/read`, u.headers)).statusCode).toBe(404);
    expect(await store(u.customerId, { data: { expiresAt: "next tuesday" } })).toEqual({
      ok: false,
      retryable: false,
      reason: 'invalid_expiry: data.expiresAt "next tuesday" is not an ISO date or date-time with offset',
    });
  });

  it("shows an unknown app user an empty message center", async () => {
    const userId = `never-identified-${uuidv7()}`;
    const headers = {
      authorization: basic(t.writeKey),
      "x-rapport-user-id": userId,
      "x-rapport-user-hash": appUserHash(secret, userId),
    };
    expect((await call("GET", "/api/v1/app/messages", headers)).json()).toEqual({
      data: [],
      nextCursor: null,
    });
    expect((await call("GET", "/api/v1/app/messages/unread-count", headers)).json()).toEqual({ unread: 0 });
    const stream = await call("GET", "/api/v1/app/messages/stream", headers);
    expect(stream.statusCode).toBe(404);
    expect(stream.json().error.code).toBe("message_center.user_not_found");
  });

  it("lets the brand's web app call from another origin, but not with Rapport's cookies", async () => {
    const u = await appUser();
    const preflight = await app.inject({
      method: "OPTIONS",
      url: "/api/v1/app/messages/unread-count",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization, x-rapport-user-id, x-rapport-user-hash",
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    expect(preflight.headers["access-control-allow-headers"]).toContain("x-rapport-user-hash");
    expect(preflight.headers["access-control-allow-credentials"]).toBeUndefined();
    const res = await call("GET", "/api/v1/app/messages/unread-count", {
      ...u.headers,
      origin: "https://shop.example",
    });
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    const agent = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${u.customerId}/in-app-messages`,
      headers: { authorization: `Bearer ${t.secretKey}`, origin: "https://shop.example" },
    });
    expect(agent.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("keeps a merged customer's messages in the survivor's message center", async () => {
    const u = await appUser();
    const { customerId: anonymous } = await identify(await db(), t.workspace.id, {
      identifiers: [{ kind: "anonymous_id", value: `anon-${uuidv7()}` }],
      reason: "test",
      defaultCountry: "US",
    });
    const before = await stored(anonymous, { title: "Sent before sign-in" });
    await mergeCustomers(await db(), t.workspace.id, {
      survivorId: u.customerId,
      mergedId: anonymous,
      actor: "test",
    });
    const list = (await call("GET", "/api/v1/app/messages", u.headers)).json();
    expect(list.data.map((m: { id: string }) => m.id)).toEqual([before]);
  });
});
