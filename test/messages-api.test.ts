import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { createEndpoint } from "../src/delivery/webhooks/endpoints.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

async function setup() {
  const t = await createTestWorkspace();
  await getMessagingSettings(db, t.workspace.id);
  await identify(db, t.workspace.id, {
    identifiers: [
      { kind: "email", value: "ada@example.com" },
      { kind: "user_id", value: "u-ada" },
    ],
    reason: "test",
    defaultCountry: "FR",
  });
  const post = (body: unknown, key?: string) =>
    app.inject({
      method: "POST",
      url: "/api/v1/messages",
      headers: { authorization: `Bearer ${t.secretKey}`, ...(key ? { "idempotency-key": key } : {}) },
      payload: body as Record<string, unknown>,
    });
  return { ...t, post };
}

const receipt = { topic: "account", content: { subject: "Your receipt", text: "Thanks!" } };

describe("POST /api/v1/messages", () => {
  it("answers the decision and the delivery id, 202 the first time and 200 for a replay", async () => {
    const { post, secretKey } = await setup();
    const first = await post({ to: { email: "Ada@Example.com" }, ...receipt }, "order-1");
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({
      decision: "send",
      state: "queued",
      channel: "email",
      replayed: false,
    });
    const again = await post({ to: { email: "ada@example.com" }, ...receipt }, "order-1");
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ deliveryId: first.json().deliveryId, replayed: true });
    const read = await app.inject({
      method: "GET",
      url: `/api/v1/deliveries/${first.json().deliveryId}`,
      headers: { authorization: `Bearer ${secretKey}` },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ state: "queued", topic: "account", kind: "transactional" });
  });

  it("refuses bad input with a clear error and sends nothing", async () => {
    const { post, workspace } = await setup();
    const cases: Array<[unknown, string | undefined, number, string]> = [
      [{ to: { userId: "u-ada" }, ...receipt }, undefined, 400, "delivery.idempotency_key_required"],
      [
        { to: { userId: "u-ada" }, topic: "account", content: { subject: "x", text: "other" } },
        "order-1",
        0,
        "",
      ],
      [{ to: { userId: "u-ada" }, ...receipt }, "order-1", 422, "delivery.idempotency_key_reused"],
      [{ to: { userId: "nobody" }, ...receipt }, "k2", 404, "delivery.customer_not_found"],
      [{ to: { userId: "u-ada", email: "ada@example.com" }, ...receipt }, "k3", 400, ""],
      [
        { to: { userId: "u-ada" }, topic: "no-such-topic", content: { text: "x" } },
        "k4",
        404,
        "delivery.topic_not_found",
      ],
      [{ to: { userId: "u-ada" }, ...receipt, channel: "fax" }, "k5", 400, ""],
    ];
    for (const [body, key, status, code] of cases) {
      const res = await post(body, key);
      if (status === 0) {
        expect(res.statusCode).toBe(202);
        continue;
      }
      expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
      expect(res.json().error.message.length).toBeGreaterThan(10);
      if (code) expect(res.json().error.code).toBe(code);
    }
    const [n] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${workspace.id}`,
    );
    expect(n?.n).toBe(1);
  });

  it("tells the brand's webhooks about each state, in the transaction that records it", async () => {
    const { post, workspace } = await setup();
    await createEndpoint(
      db,
      workspace.id,
      { url: "https://hooks.melodia.example/rapport", eventTypes: ["delivery.queued", "delivery.delivered"] },
      { kind: "system" },
      { resolve: async () => [{ address: "93.184.216.34", family: 4 }] },
    );
    const res = await post({ to: { userId: "u-ada" }, ...receipt }, "hooked");
    const id = res.json().deliveryId;
    expect(await runDelivery(db, workspace.id, id)).toBe("delivered");
    const messages = await rows<{ type: string; deliveryId: string; state: string }>(
      db,
      sql`SELECT event_type AS type, payload->'data'->>'deliveryId' AS "deliveryId", payload->'data'->>'state' AS state
          FROM webhook_messages WHERE workspace_id = ${workspace.id} ORDER BY created_at, id`,
    );
    expect(messages).toEqual([
      { type: "delivery.queued", deliveryId: id, state: "queued" },
      { type: "delivery.delivered", deliveryId: id, state: "delivered" },
    ]);
  });

  it("shows the sandbox outbox, and lets only admins set providers", async () => {
    const { post, secretKey, workspace } = await setup();
    const res = await post({ to: { userId: "u-ada" }, ...receipt }, "outbox");
    await runDelivery(db, workspace.id, res.json().deliveryId);
    const outbox = await app.inject({
      method: "GET",
      url: "/api/v1/sandbox/outbox",
      headers: { authorization: `Bearer ${secretKey}` },
    });
    expect(outbox.json().data.map((d: { id: string }) => d.id)).toEqual([res.json().deliveryId]);
    expect(outbox.json().data[0].content.subject).toBe("Your receipt");
    const bad = await app.inject({
      method: "PUT",
      url: "/api/v1/providers/email",
      headers: { authorization: `Bearer ${secretKey}` },
      payload: { kind: "twilio", config: {} },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("delivery.provider_channel");
  });
});
