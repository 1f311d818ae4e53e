import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { messagingSettings } from "../src/consent/tables.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { getDelivery, listDeliveries } from "../src/delivery/deliveries.ts";
import { runDeliveries, runDelivery } from "../src/delivery/engine.ts";
import { sendMany, sendMessage } from "../src/delivery/send.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
const publicUrl = "https://rapport.example";
beforeAll(async () => {
  db = (await testDatabase()).db;
});

async function setup(over: Partial<typeof messagingSettings.$inferInsert> = {}) {
  const ws = (await createTestWorkspace()).workspace.id;
  await getMessagingSettings(db, ws);
  if (Object.keys(over).length > 0) {
    await db.update(messagingSettings).set(over).where(eq(messagingSettings.workspaceId, ws));
  }
  const customer = await identify(db, ws, {
    identifiers: [
      { kind: "email", value: "ada@example.com" },
      { kind: "user_id", value: "u-ada" },
    ],
    traits: { first_name: "Ada" },
    reason: "test",
    defaultCountry: "FR",
  });
  return { ws, customerId: customer.customerId };
}

const content = {
  subject: "Hello {{ customer.traits.first_name }}",
  text: "Hi {{ customer.traits.first_name }}!",
};

async function jobsOf(ws: string): Promise<Array<{ payload: { deliveryIds: string[] } }>> {
  return rows(
    db,
    sql`SELECT payload FROM jobs WHERE workspace_id = ${ws} AND task = 'delivery.send' ORDER BY id`,
  );
}

describe("sending through the Gate into the ledger", () => {
  it("sends a transactional message through the sandbox and keeps it in the outbox", async () => {
    const { ws, customerId } = await setup();
    const out = await sendMessage(
      db,
      ws,
      { customerId, topic: "account", content, idempotencyKey: "k1", source: "api" },
      { publicUrl },
    );
    expect(out).toMatchObject({ decision: "send", state: "queued", channel: "email", replayed: false });
    const jobs = await jobsOf(ws);
    expect(jobs.map((j) => j.payload.deliveryIds)).toEqual([[out.deliveryId]]);
    expect(await runDelivery(db, ws, out.deliveryId)).toBe("delivered");
    const d = await getDelivery(db, ws, out.deliveryId);
    expect(d.content).toMatchObject({ subject: "Hello Ada", text: "Hi Ada!" });
    // templates also read the preferences the message honours
    const prefs = await sendMessage(
      db,
      ws,
      {
        customerId,
        topic: "account",
        content: {
          subject: "Prefs",
          text: "{{ customer.preferences.language }} {{ customer.preferences.timezone }}",
        },
        idempotencyKey: "k-prefs",
        source: "api",
      },
      { publicUrl },
    );
    expect((await getDelivery(db, ws, prefs.deliveryId)).content?.text).toBe("en UTC");
    // every email carries RFC 8058 one-click unsubscribe headers pointing at this customer's link
    expect(d.content?.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(d.content?.headers?.["List-Unsubscribe"]).toMatch(
      /^<https:\/\/rapport\.example\/unsubscribe\/[^>]+>$/,
    );
    expect(d.events.map((e) => e.state)).toEqual(["queued", "sending", "delivered"]);
    const outbox = await listDeliveries(db, ws, { provider: "sandbox", limit: 10 });
    expect(outbox.data.map((o) => o.id)).toEqual([out.deliveryId]);
    // running the job again changes nothing
    expect(await runDelivery(db, ws, out.deliveryId)).toBe("delivered");
    expect((await getDelivery(db, ws, out.deliveryId)).attempts).toBe(1);
  });

  it("skips marketing without consent, with the reason, and records it", async () => {
    const { ws, customerId } = await setup({ optInCountries: ["FR"] });
    // the customer's country (from traits) makes every marketing topic opt-in
    await identify(db, ws, {
      identifiers: [{ kind: "user_id", value: "u-ada" }],
      traits: { country: "FR" },
      reason: "test",
      defaultCountry: "FR",
    });
    const out = await sendMessage(
      db,
      ws,
      { customerId, topic: "promotions", content, idempotencyKey: "p1", source: "api" },
      { publicUrl },
    );
    expect(out).toMatchObject({ decision: "skip", state: "skipped", reason: "no_consent", channel: null });
    expect(await jobsOf(ws)).toEqual([]);
    const d = await getDelivery(db, ws, out.deliveryId);
    expect(d.gate).toMatchObject({ action: "skip", reason: "no_consent" });
  });

  it("answers a replayed key with the first outcome, and refuses the key for another request", async () => {
    const { ws, customerId } = await setup();
    const req = { customerId, topic: "account", content, idempotencyKey: "same", source: "api" };
    const first = await sendMessage(db, ws, req, { publicUrl });
    const again = await sendMessage(db, ws, { ...req }, { publicUrl });
    expect(again).toMatchObject({ deliveryId: first.deliveryId, replayed: true });
    const other = await sendMessage(db, ws, { ...req, content: { text: "different" } }, { publicUrl }).catch(
      (e) => e,
    );
    expect(isAppError(other, "delivery.idempotency_key_reused")).toBe(true);
    // the same key twice in one batch is one delivery
    const many = await sendMany(
      db,
      ws,
      [
        { ...req, idempotencyKey: "twice" },
        { ...req, idempotencyKey: "twice" },
      ],
      {
        publicUrl,
      },
    );
    expect(many[0]).toMatchObject({ replayed: false });
    expect(many[1]).toMatchObject({
      replayed: true,
      deliveryId: (many[0] as { deliveryId: string }).deliveryId,
    });
    const [n] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${ws}`,
    );
    expect(n?.n).toBe(2);
  });

  it("refuses bad input clearly and writes nothing", async () => {
    const { ws, customerId } = await setup();
    const bad = [
      [
        { customerId, topic: "nope", content, idempotencyKey: "b1", source: "api" },
        "delivery.topic_not_found",
      ],
      [
        { customerId: uuidv7(), topic: "account", content, idempotencyKey: "b2", source: "api" },
        "delivery.customer_not_found",
      ],
      [{ customerId, topic: "account", idempotencyKey: "b3", source: "api" }, "delivery.invalid_request"],
      [
        { customerId, topic: "account", content, channel: "pigeon", idempotencyKey: "b4", source: "api" },
        "delivery.invalid_request",
      ],
      [
        { customerId, topic: "account", content: { text: "{% if %}" }, idempotencyKey: "b5", source: "api" },
        "delivery.template_render_failed",
      ],
    ] as const;
    for (const [req, code] of bad) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
      const err = await sendMessage(db, ws, req as any, { publicUrl }).catch((e) => e);
      expect(isAppError(err, code), `${code}: ${String(err)}`).toBe(true);
    }
    const [topicErr] = [await sendMessage(db, ws, bad[0][0], { publicUrl }).catch((e) => e)];
    expect(String(topicErr.message)).toContain("account");
    // only the failed render is recorded (as failed, with the reason); nothing was queued
    const all = await rows<{ state: string; key: string }>(
      db,
      sql`SELECT state, idempotency_key AS key FROM deliveries WHERE workspace_id = ${ws}`,
    );
    expect(all).toEqual([{ state: "failed", key: "b5" }]);
    expect(await jobsOf(ws)).toEqual([]);
  });

  it("defers marketing past quiet hours and sends when they end, after asking the Gate again", async () => {
    const { ws, customerId } = await setup({
      defaultTimezone: "Europe/Paris",
      defaultQuietHours: { start: "21:00", end: "08:00" },
    });
    const now = new Date("2026-07-01T21:30:00Z"); // 23:30 in Paris
    const out = await sendMessage(
      db,
      ws,
      { customerId, topic: "news", content, idempotencyKey: "q1", source: "journey" },
      { publicUrl, now },
    );
    expect(out).toMatchObject({
      decision: "defer",
      reason: "quiet_hours",
      deferredUntil: "2026-07-02T06:00:00.000Z",
    });
    // still quiet at 05:00 Paris time: deferred again to the same end
    expect(await runDelivery(db, ws, out.deliveryId, { now: new Date("2026-07-02T03:00:00Z") })).toBe(
      "deferred",
    );
    expect(await runDelivery(db, ws, out.deliveryId, { now: new Date("2026-07-02T06:00:00Z") })).toBe(
      "delivered",
    );
  });

  it("runs a batch job of many deliveries, one job per five hundred", async () => {
    const { ws } = await setup();
    const ids = [];
    for (let i = 0; i < 650; i++) {
      const c = await identify(db, ws, {
        identifiers: [{ kind: "email", value: `p${i}@example.com` }],
        reason: "test",
        defaultCountry: "FR",
      });
      ids.push(c.customerId);
    }
    const outcomes = await sendMany(
      db,
      ws,
      ids.map((customerId, i) => ({
        customerId,
        topic: "account",
        content,
        idempotencyKey: `b-${i}`,
        source: "api",
      })),
      { publicUrl },
    );
    expect(outcomes.every((o) => "deliveryId" in o && o.state === "queued")).toBe(true);
    const jobs = await jobsOf(ws);
    expect(jobs.map((j) => j.payload.deliveryIds.length)).toEqual([500, 150]);
    for (const j of jobs) await runDeliveries(db, ws, j.payload.deliveryIds);
    const [n] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${ws} AND state = 'delivered'`,
    );
    expect(n?.n).toBe(650);
  });

  it("delivers exactly N of 50 concurrent marketing sends to one customer under a cap of N", async () => {
    const cap = 3;
    const { ws, customerId } = await setup({ caps: [{ channel: "*", window: "day", limit: cap }] });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sendMessage(
          db,
          ws,
          { customerId, topic: "news", content, idempotencyKey: `c-${i}`, source: "journey" },
          { publicUrl },
        ),
      ),
    );
    expect(results.filter((r) => r.decision === "send")).toHaveLength(cap);
    expect(results.filter((r) => r.reason === "cap_reached")).toHaveLength(50 - cap);
    // on PostgreSQL the sends really ran side by side on separate connections
    if (testDatabaseUrl()) expect(results).toHaveLength(50);
  });
});
