import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { foldAllInboxes } from "../src/profiles/inbox.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

let app: App;
let t: TestWorkspace;
beforeAll(async () => {
  app = await testApp();
  t = await createTestWorkspace();
});
afterAll(async () => app?.close());

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

function post(
  url: string,
  body: unknown,
  key: string | null = t.writeKey,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: "POST",
    url,
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: basic(key) } : {}),
      ...headers,
    },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function eventCount(workspaceId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    (await testDatabase()).db,
    sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${workspaceId}`,
  );
  return r?.n ?? -1;
}

describe("Segment-compatible ingestion", () => {
  it("accepts each call type and answers like Segment", async () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ["identify", { userId: "h1", traits: { email: "h1@example.com", name: "Hedy" } }],
      ["track", { userId: "h1", event: "Order Completed", properties: { total: 42 } }],
      ["page", { userId: "h1", name: "Pricing", category: "Marketing" }],
      ["screen", { userId: "h1", name: "Home" }],
      ["group", { userId: "h1", groupId: "acme", traits: { name: "Acme" } }],
      ["alias", { userId: "h1", previousId: "anon-h1" }],
    ];
    for (const [type, body] of calls) {
      const res = await post(`/v1/${type}`, body);
      expect(res.statusCode, `${type}: ${res.body}`).toBe(200);
      expect(res.json()).toMatchObject({ success: true, accepted: 1, rejected: [] });
    }
    await foldAllInboxes((await testDatabase()).db);
    const list = await app.inject({
      method: "GET",
      url: "/api/v1/customers?email=H1@example.com",
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(list.statusCode).toBe(200);
    const [customer] = list.json().data;
    expect(customer.traits).toMatchObject({ name: "Hedy", email: "h1@example.com" });
    expect(customer.identities).toEqual(
      expect.arrayContaining([
        { kind: "user_id", value: "h1" },
        { kind: "anonymous_id", value: "anon-h1" },
      ]),
    );
    const events = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${customer.id}/events?limit=4`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(events.json().data.map((e: { type: string }) => e.type)).toHaveLength(4);
    expect(events.json().nextCursor).toBeTypeOf("string");
    const rest = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${customer.id}/events?limit=4&cursor=${events.json().nextCursor}`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(rest.json().data).toHaveLength(2);
    expect(rest.json().nextCursor).toBeNull();
  });

  it("takes the write key from the body as Segment does, and sendBeacon's text/plain", async () => {
    const res = await post("/v1/track", { writeKey: t.writeKey, userId: "b1", event: "Beacon" }, null, {
      "content-type": "text/plain",
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("stores the valid events of a batch and says which were rejected and why", async () => {
    const res = await post("/v1/batch", {
      batch: [
        { type: "track", userId: "p1", event: "Ok 1", messageId: "batch-ok-1" },
        { type: "launch", userId: "p1", messageId: "batch-bad-type" },
        { type: "track", event: "No ids", messageId: "batch-no-id" },
        { type: "track", userId: "p1", event: "Bad time", timestamp: "yesterday", messageId: "batch-bad-ts" },
        { type: "identify", userId: "p2", traits: { email: "nope" }, messageId: "batch-bad-email" },
        { type: "track", userId: "p1", event: "Ok 2", messageId: "batch-ok-2" },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.success).toBe(false);
    expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, "ingest.unknown_type"],
      [2, "ingest.missing_id"],
      [3, "ingest.invalid_event"],
      [4, "profiles.invalid_email"],
    ]);
    expect(body.rejected[2].message).toContain("timestamp");
  });

  it("stores a replayed messageId once", async () => {
    const fresh = await createTestWorkspace();
    const e = { type: "track", userId: "r1", event: "Paid", messageId: "replay-1" };
    await post("/v1/batch", { batch: [e] }, fresh.writeKey);
    await foldAllInboxes((await testDatabase()).db);
    const again = await post("/v1/batch", { batch: [e, e] }, fresh.writeKey);
    expect(again.json()).toMatchObject({ success: true, accepted: 2 });
    await foldAllInboxes((await testDatabase()).db);
    expect(await eventCount(fresh.workspace.id)).toBe(1);
  });

  it("corrects the sender's clock with sentAt, as Segment does", async () => {
    // the client's clock is one hour fast: it stamps and sends an hour ahead
    const fast = Date.now() + 3600_000;
    await post("/v1/batch", {
      sentAt: new Date(fast).toISOString(),
      batch: [
        { type: "track", userId: "skew1", event: "Skewed", timestamp: new Date(fast - 60_000).toISOString() },
      ],
    });
    await foldAllInboxes((await testDatabase()).db);
    const list = await app.inject({
      method: "GET",
      url: "/api/v1/customers?userId=skew1",
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    const id = list.json().data[0].id;
    const ev = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/events`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    const ts = Date.parse(ev.json().data[0].timestamp);
    expect(Math.abs(ts - (Date.now() - 60_000))).toBeLessThan(10_000);
  });
});

describe("ingestion refuses bad input clearly and stores nothing", () => {
  it("answers 401 to a missing or wrong write key", async () => {
    const fresh = await createTestWorkspace();
    const none = await post("/v1/track", { userId: "x", event: "E" }, null);
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe("auth.unauthorized");
    const wrong = await post("/v1/track", { userId: "x", event: "E" }, `${fresh.writeKey.slice(0, -4)}AAAA`);
    expect(wrong.statusCode).toBe(401);
    const secretAsWrite = await post(
      "/v1/batch",
      { batch: [{ type: "track", userId: "x", event: "E" }] },
      fresh.secretKey,
    );
    expect(secretAsWrite.statusCode).toBe(401);
    await foldAllInboxes((await testDatabase()).db);
    expect(await eventCount(fresh.workspace.id)).toBe(0);
  });

  it("answers 400 to malformed JSON and 415 to a wrong content type", async () => {
    const bad = await post("/v1/track", '{"userId": "x", ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("request.malformed_json");
    const xml = await post("/v1/track", "<track/>", t.writeKey, { "content-type": "application/xml" });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe("request.unsupported_media_type");
  });

  it("names the 32 KB limit for an event and the 500 KB limit for a batch", async () => {
    const big = "x".repeat(33 * 1024);
    const one = await post("/v1/track", { userId: "x", event: "Big", properties: { big } });
    expect(one.statusCode).toBe(400);
    expect(one.json().error).toMatchObject({ code: "ingest.event_too_large" });
    expect(one.json().error.message).toContain("32 KB");
    const inBatch = await post("/v1/batch", {
      batch: [{ type: "track", userId: "x", event: "Big", properties: { big } }],
    });
    expect(inBatch.json().rejected[0]).toMatchObject({ code: "ingest.event_too_large" });
    const batch = Array.from({ length: 20 }, () => ({
      type: "track",
      userId: "x",
      event: "E",
      properties: { p: "y".repeat(30_000) },
    }));
    const whole = await post("/v1/batch", { batch });
    expect(whole.statusCode).toBe(400);
    expect(whole.json().error.code).toBe("ingest.batch_too_large");
    expect(whole.json().error.message).toContain("500 KB");
  });

  it("refuses an unknown type, a bad timestamp, an invalid email or phone on single calls", async () => {
    const ts = await post("/v1/track", { userId: "x", event: "E", timestamp: "31/01/2026" });
    expect(ts.statusCode).toBe(400);
    expect(ts.json().error.message).toContain("ISO 8601");
    const email = await post("/v1/identify", { userId: "x", traits: { email: "x@" } });
    expect(email.json().error.code).toBe("profiles.invalid_email");
    const phone = await post("/v1/identify", { userId: "x", traits: { phone: "+1 000" } });
    expect(phone.json().error.code).toBe("profiles.invalid_phone");
    const sentAt = await post("/v1/batch", {
      sentAt: "soon",
      batch: [{ type: "track", userId: "x", event: "E" }],
    });
    expect(sentAt.json().error.code).toBe("ingest.invalid_timestamp");
    const empty = await post("/v1/batch", { batch: [] });
    expect(empty.json().error.code).toBe("ingest.empty_batch");
    const noBatch = await post("/v1/batch", { events: [] });
    expect(noBatch.statusCode).toBe(400);
    expect(noBatch.json().error.code).toBe("request.invalid");
  });
});
