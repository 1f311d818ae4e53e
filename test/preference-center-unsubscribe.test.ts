import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consentLedger, consentOverview } from "../src/consent/ledger.ts";
import { signLinkToken } from "../src/consent/link-tokens.ts";
import { preferenceLinks } from "../src/consent/preference-links.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { getTopicByKey } from "../src/consent/topics.ts";
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
const ONE_CLICK = "List-Unsubscribe=One-Click";

async function setup(target: { channel?: "email" | "sms"; topic?: string | null } = {}) {
  const { workspace } = await createTestWorkspace(app.ctx.database);
  const ws = workspace.id;
  const { customerId } = await identify(db(), ws, {
    identifiers: [{ kind: "email", value: `u-${uuidv7().slice(-12)}@example.com` }],
    reason: "test",
    defaultCountry: "US",
  });
  const settings = await getMessagingSettings(db(), ws);
  const topic =
    target.topic === null ? undefined : await getTopicByKey(db(), ws, target.topic ?? "promotions");
  const deliveryId = uuidv7();
  const links = preferenceLinks(settings, app.ctx.config.publicUrl, {
    workspaceId: ws,
    customerId,
    channel: target.channel === undefined ? "email" : target.channel,
    topicId: topic?.id,
    deliveryId,
  });
  const url = new URL(links.unsubscribe).pathname;
  return { ws, customerId, settings, topic, deliveryId, url, token: url.split("/").pop() ?? "" };
}

const promoEmail = async (ws: string, customerId: string) =>
  (await consentOverview(db(), ws, customerId)).topics.find((t) => t.key === "promotions")?.channels.email;

const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
  app.inject({
    method: "POST",
    url,
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    payload,
  });

describe("one-click unsubscribe (RFC 8058)", () => {
  it("unsubscribes the link's channel × topic at once, without cookies, with the delivery as proof", async () => {
    const t = await setup();
    expect(await promoEmail(t.ws, t.customerId)).toEqual({ subscribed: true, source: "default" });
    const res = await post(t.url, ONE_CLICK, { "user-agent": "Mail/1.0" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await promoEmail(t.ws, t.customerId)).toEqual({ subscribed: false, source: "topic" });
    const overview = await consentOverview(db(), t.ws, t.customerId);
    // only that cell: news by email is untouched
    expect(overview.topics.find((x) => x.key === "news")?.channels.email).toEqual({
      subscribed: true,
      source: "default",
    });
    const [entry, ...rest] = (await consentLedger(db(), t.ws, t.customerId, { limit: 10 })).data;
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      channel: "email",
      topic: "promotions",
      status: "unsubscribed",
      source: "one_click",
      proof: { deliveryId: t.deliveryId, userAgent: "Mail/1.0" },
    });
  });

  it("accepts the body as multipart/form-data too", async () => {
    const t = await setup();
    const boundary = "----rapport123";
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    const res = await app.inject({
      method: "POST",
      url: t.url,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(await promoEmail(t.ws, t.customerId)).toEqual({ subscribed: false, source: "topic" });
  });

  it("refuses a wrong or missing body with 400 and changes nothing", async () => {
    const t = await setup();
    const cases: Array<{ payload: string; type?: string }> = [
      { payload: "List-Unsubscribe=Nope" },
      { payload: "" },
      { payload: `${ONE_CLICK}&extra=1` },
      { payload: "list-unsubscribe=one-click" },
      { payload: JSON.stringify({ "List-Unsubscribe": "One-Click", more: true }), type: "application/json" },
      { payload: ONE_CLICK, type: "text/plain" },
    ];
    for (const c of cases) {
      const res = await post(t.url, c.payload, c.type ? { "content-type": c.type } : {});
      expect(res.statusCode, c.payload).toBe(400);
      expect(res.json().error.code).toBe("consent.invalid_one_click");
    }
    const none = await app.inject({ method: "POST", url: t.url });
    expect(none.statusCode).toBe(400);
    expect(await promoEmail(t.ws, t.customerId)).toEqual({ subscribed: true, source: "default" });
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 10 })).data).toEqual([]);
  });

  it("never unsubscribes on GET: it shows a confirmation with one button and a link to every preference", async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: "GET", url: t.url, headers: { "accept-language": "fr" } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/<html lang="fr">/);
      expect(res.body).toContain("« Promotions » par E-mail");
      expect(res.body).toContain(`<form method="post" action="${t.url}">`);
      expect(res.body).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
      expect(res.body).toContain(`href="/preferences/${t.token}"`);
    }
    const head = await app.inject({ method: "HEAD", url: t.url });
    expect(head.statusCode).toBe(200);
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 10 })).data).toEqual([]);
    // the page's own button posts the one-click body and answers a page
    const res = await post(t.url, ONE_CLICK, { accept: "text/html" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain("You will no longer receive “Promotions” by Email.");
  });

  it("unsubscribes a whole channel when the link names no topic", async () => {
    const t = await setup({ topic: null });
    expect((await post(t.url, ONE_CLICK)).statusCode).toBe(200);
    const overview = await consentOverview(db(), t.ws, t.customerId);
    for (const topic of overview.topics) {
      expect(topic.channels.email).toEqual({ subscribed: false, source: "channel" });
      expect(topic.channels.push).toEqual({ subscribed: true, source: "default" });
    }
  });

  it("answers tampered, expired and preference-only tokens with 403 and changes nothing", async () => {
    const t = await setup();
    const [body, sig] = t.token.split(".");
    const tampered = `${body?.slice(0, -2)}AA.${sig}`;
    const claims = {
      workspaceId: t.ws,
      customerId: t.customerId,
      channel: "email" as const,
      topicId: t.topic?.id,
    };
    const expired = signLinkToken(t.settings.linkSecret, {
      purpose: "u",
      ...claims,
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    const preferenceOnly = signLinkToken(t.settings.linkSecret, {
      purpose: "p",
      ...claims,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    for (const bad of [tampered, expired, preferenceOnly, "garbage"]) {
      const res = await post(`/unsubscribe/${bad}`, ONE_CLICK);
      expect(res.statusCode, bad).toBe(403);
      expect(res.body).toContain("This link no longer works");
      expect((await app.inject({ method: "GET", url: `/unsubscribe/${bad}` })).statusCode).toBe(403);
    }
    expect(await promoEmail(t.ws, t.customerId)).toEqual({ subscribed: true, source: "default" });
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 10 })).data).toEqual([]);
  });
});
