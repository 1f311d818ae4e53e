import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { consentLedger } from "../src/consent/ledger.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { updateTopic } from "../src/consent/topics.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

let app: App;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => app?.close());

const db = () => app.ctx.database.db;

async function setup() {
  const t = await createTestWorkspace(app.ctx.database);
  const ws = t.workspace.id;
  const userId = `app-${uuidv7().slice(-12)}`;
  const { customerId } = await identify(db(), ws, {
    identifiers: [
      { kind: "user_id", value: userId },
      { kind: "device_token", value: `tok-${userId}` },
    ],
    reason: "test",
    defaultCountry: "US",
  });
  const settings = await getMessagingSettings(db(), ws);
  const headers = (id = userId, hash = appUserHash(settings.identitySecret, id)) => ({
    authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}`,
    "x-rapport-user-id": id,
    "x-rapport-user-hash": hash,
  });
  return { ws, userId, customerId, headers, settings };
}

describe("in-app preference API", () => {
  it("answers the overview of a verified app user, with only the topics customers see", async () => {
    const t = await setup();
    await updateTopic(db(), t.ws, "events", { visible: false });
    const res = await app.inject({ method: "GET", url: "/api/v1/app/preferences", headers: t.headers() });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.customerId).toBe(t.customerId);
    expect(body.topics.map((x: { key: string }) => x.key)).toEqual([
      "promotions",
      "news",
      "loyalty",
      "service-status",
      "account",
      "support",
    ]);
    expect(body.reachableChannels).toEqual(["push", "in_app"]);
    expect(body.topics[0].channels.push).toEqual({ subscribed: true, source: "default" });
  });

  it("refuses a bad or missing user hash with 401 consent.invalid_user_hash, and a bad write key", async () => {
    const t = await setup();
    const other = await setup();
    const wrong = [
      t.headers(t.userId, "0".repeat(64)),
      t.headers(t.userId, "not-hex"),
      // a hash made with another workspace's identity secret
      t.headers(t.userId, appUserHash(other.settings.identitySecret, t.userId)),
      // a valid hash, for another user id than the one claimed
      { ...t.headers(), "x-rapport-user-id": other.userId },
    ];
    for (const headers of wrong) {
      const res = await app.inject({ method: "GET", url: "/api/v1/app/preferences", headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("consent.invalid_user_hash");
    }
    const { "x-rapport-user-hash": _h, ...noHash } = t.headers();
    const missing = await app.inject({ method: "GET", url: "/api/v1/app/preferences", headers: noHash });
    expect(missing.statusCode).toBe(401);
    const badKey = await app.inject({
      method: "PUT",
      url: "/api/v1/app/preferences",
      headers: { ...t.headers(), authorization: `Basic ${Buffer.from("wk_nope:").toString("base64")}` },
      payload: { topics: [{ key: "promotions", channels: { push: { subscribed: false } } }] },
    });
    expect(badKey.statusCode).toBe(401);
    expect(badKey.json().error.code).toBe("auth.unauthorized");
    const put = await app.inject({
      method: "PUT",
      url: "/api/v1/app/preferences",
      headers: t.headers(t.userId, "0".repeat(64)),
      payload: { topics: [{ key: "promotions", channels: { push: { subscribed: false } } }] },
    });
    expect(put.statusCode).toBe(401);
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data).toEqual([]);
  });

  it("records only changed cells as in_app and takes back the overview it gave", async () => {
    const t = await setup();
    const first = await app.inject({ method: "GET", url: "/api/v1/app/preferences", headers: t.headers() });
    // sending back the overview untouched changes nothing
    const same = await app.inject({
      method: "PUT",
      url: "/api/v1/app/preferences",
      headers: t.headers(),
      payload: first.json(),
    });
    expect(same.statusCode).toBe(200);
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data).toEqual([]);
    const res = await app.inject({
      method: "PUT",
      url: "/api/v1/app/preferences",
      headers: { ...t.headers(), "user-agent": "BrandApp/3.2" },
      payload: {
        topics: [
          { key: "promotions", channels: { push: { subscribed: false }, in_app: { subscribed: true } } },
        ],
        preferences: { quietHours: { start: "21:00", end: "08:00" }, language: "fr" },
      },
    });
    expect(res.statusCode).toBe(200);
    const promo = res.json().topics.find((x: { key: string }) => x.key === "promotions");
    expect(promo.channels.push).toEqual({ subscribed: false, source: "topic" });
    expect(promo.channels.in_app).toEqual({ subscribed: true, source: "default" });
    expect(res.json().preferences).toMatchObject({
      quietHours: { start: "21:00", end: "08:00" },
      language: "fr",
    });
    const ledger = (await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data;
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ channel: "push", topic: "promotions", source: "in_app" });
    expect(ledger[0]?.proof).toMatchObject({ userAgent: "BrandApp/3.2" });
  });

  it("explains bad input and an unknown user id", async () => {
    const t = await setup();
    const put = (payload: unknown) =>
      app.inject({
        method: "PUT",
        url: "/api/v1/app/preferences",
        headers: t.headers(),
        payload: payload as object,
      });
    const unknownTopic = await put({ topics: [{ key: "nope", channels: { push: { subscribed: false } } }] });
    expect(unknownTopic.statusCode).toBe(404);
    expect(unknownTopic.json().error.message).toContain('"nope"');
    const badChannel = await put({ topics: [{ key: "news", channels: { fax: { subscribed: false } } }] });
    expect(badChannel.statusCode).toBe(400);
    expect(badChannel.json().error.code).toBe("consent.invalid_channel");
    const badZone = await put({ preferences: { timezone: "Nowhere/Land" } });
    expect(badZone.statusCode).toBe(400);
    expect(badZone.json().error.message).toContain("timezone");
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data).toEqual([]);
    const stranger = `app-${uuidv7()}`;
    const res = await app.inject({
      method: "GET",
      url: "/api/v1/app/preferences",
      headers: t.headers(stranger, appUserHash(t.settings.identitySecret, stranger)),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("consent.customer_not_found");
  });
});
