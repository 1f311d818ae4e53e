import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { consentLedger, consentOverview } from "../src/consent/ledger.ts";
import { signLinkToken } from "../src/consent/link-tokens.ts";
import { preferenceLinks, type SendFn, sendFreshPreferenceLink } from "../src/consent/preference-links.ts";
import { getPreferences } from "../src/consent/preferences.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { updateMessagingSettings } from "../src/consent/settings-admin.ts";
import { getTopicByKey } from "../src/consent/topics.ts";
import { listDeliveries } from "../src/delivery/deliveries.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { getCustomer } from "../src/profiles/customers.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => app?.close());

const db = () => app.ctx.database.db;

async function setup(opts: { deliveryId?: string; traits?: Record<string, unknown> } = {}) {
  const { workspace } = await createTestWorkspace(app.ctx.database);
  const ws = workspace.id;
  const tag = uuidv7().slice(-12);
  const email = `pc-${tag}@example.com`;
  const { customerId } = await identify(db(), ws, {
    identifiers: [
      { kind: "email", value: email },
      { kind: "phone", value: "+14155550123" },
      { kind: "user_id", value: `u-${tag}` },
    ],
    traits: opts.traits ?? {},
    reason: "test",
    defaultCountry: "US",
  });
  await updateMessagingSettings(db(), ws, {
    questions: [
      {
        key: "interests",
        labels: { en: "What do you like?", fr: "Qu'aimez-vous ?" },
        options: [
          { value: "running", labels: { en: "Running", fr: "Course à pied" } },
          { value: "hiking", labels: { en: "Hiking", fr: "Randonnée" } },
        ],
        multiple: true,
      },
      {
        key: "shoeSize",
        labels: { en: "Shoe size" },
        options: [
          { value: "40", labels: { en: "40" } },
          { value: "42", labels: { en: "42" } },
        ],
        multiple: false,
      },
    ],
  });
  const settings = await getMessagingSettings(db(), ws);
  const promotions = await getTopicByKey(db(), ws, "promotions");
  const links = preferenceLinks(settings, app.ctx.config.publicUrl, {
    workspaceId: ws,
    customerId,
    channel: "email",
    topicId: promotions.id,
    deliveryId: opts.deliveryId,
  });
  return {
    ws,
    email,
    customerId,
    settings,
    promotions,
    page: new URL(links.preferences).pathname,
    // an unsubscribe token also opens the preference center, carrying its delivery id
    pageViaUnsubscribe: new URL(links.unsubscribe).pathname.replace("/unsubscribe/", "/preferences/"),
  };
}

function decode(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** What a browser would post for the page's form as rendered (nothing touched). */
function formAsRendered(page: string): URLSearchParams {
  const form = new URLSearchParams();
  for (const m of page.matchAll(/<input ([^>]*)>/g)) {
    const attrs = m[1] ?? "";
    const attr = (name: string) => {
      const found = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs);
      return found ? decode(found[1] ?? "") : undefined;
    };
    const name = attr("name");
    if (!name) continue;
    const type = attr("type") ?? "text";
    if ((type === "checkbox" || type === "radio") && !/\bchecked\b/.test(attrs)) continue;
    form.append(name, attr("value") ?? "");
  }
  for (const m of page.matchAll(/<select [^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected>/.exec(m[2] ?? "");
    if (selected) form.append(m[1] ?? "", decode(selected[1] ?? ""));
  }
  return form;
}

const formPost = (url: string, form: URLSearchParams, headers: Record<string, string> = {}) =>
  app.inject({
    method: "POST",
    url,
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    payload: form.toString(),
  });

describe("preference center page", () => {
  it("renders the customer's topics × reachable channels in English, phone-sized and small", async () => {
    const t = await setup();
    const res = await app.inject({
      method: "GET",
      url: t.page,
      headers: { "accept-language": "en-GB,en;q=0.9" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.body).toMatch(/^<!doctype html><html lang="en">/);
    expect(res.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(Buffer.byteLength(res.body)).toBeLessThan(30_000);
    expect(res.body).toContain("<legend>Promotions</legend>");
    expect(res.body).toContain("Service messages");
    // reachable: email, sms, whatsapp (phone), in-app (user id); no device token, so no push
    const shown = formAsRendered(res.body).getAll("shown");
    const promo = shown.filter((v) => v.endsWith(`:${t.promotions.id}`)).map((v) => v.split(":")[0]);
    expect(promo).toEqual(["email", "sms", "whatsapp", "in_app"]);
    // defaults: email and in-app opt-out (ticked), SMS and WhatsApp opt-in (unticked)
    const ticked = formAsRendered(res.body)
      .getAll("sub")
      .filter((v) => v.endsWith(`:${t.promotions.id}`));
    expect(ticked.map((v) => v.split(":")[0])).toEqual(["email", "in_app"]);
    // every control is labelled
    for (const m of res.body.matchAll(/<input type="(?:checkbox|radio|time|text)" id="([^"]+)"/g)) {
      expect(res.body).toMatch(new RegExp(`<label[^>]* for="${m[1]}"`));
    }
    expect(res.body).toContain("<legend>What do you like?</legend>");
  });

  it("renders in French from Accept-Language, and in the customer's chosen language above all", async () => {
    const t = await setup();
    const fr = await app.inject({
      method: "GET",
      url: t.page,
      headers: { "accept-language": "fr-CA, en;q=0.5" },
    });
    expect(fr.body).toMatch(/^<!doctype html><html lang="fr">/);
    expect(fr.body).toContain("Vos préférences");
    expect(fr.body).toContain("<legend>Actualités</legend>");
    expect(fr.body).toContain("Course à pied");
    expect(fr.body).toContain("E-mail");
    const form = formAsRendered(fr.body);
    form.set("language", "en");
    const saved = await formPost(t.page, form, { "accept-language": "fr" });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toMatch(/<html lang="en">/);
    expect((await getPreferences(db(), t.ws, t.customerId)).language).toBe("en");
    const again = await app.inject({ method: "GET", url: t.page, headers: { "accept-language": "fr" } });
    expect(again.body).toMatch(/<html lang="en">/);
  });

  it("records only what changed, with proof, and saving an unchanged form records nothing", async () => {
    const deliveryId = uuidv7();
    const t = await setup({ deliveryId });
    const page = await app.inject({ method: "GET", url: t.pageViaUnsubscribe });
    expect(page.statusCode).toBe(200);
    const unchanged = await formPost(t.pageViaUnsubscribe, formAsRendered(page.body));
    expect(unchanged.statusCode).toBe(200);
    expect(unchanged.body).toContain("Nothing changed.");
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 50 })).data).toEqual([]);
    expect(await getPreferences(db(), t.ws, t.customerId)).toMatchObject({ timezone: null, language: null });

    const form = formAsRendered(page.body);
    const promoEmail = `email:${t.promotions.id}`;
    const promoSms = `sms:${t.promotions.id}`;
    const rest = form.getAll("sub").filter((v) => v !== promoEmail);
    form.delete("sub");
    for (const v of [...rest, promoSms]) form.append("sub", v);
    const saved = await formPost(t.pageViaUnsubscribe, form, { "user-agent": "PhoneBrowser/1.0" });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toContain("Your choices are saved.");
    const ledger = (await consentLedger(db(), t.ws, t.customerId, { limit: 50 })).data;
    expect(ledger.map((e) => [e.channel, e.topic, e.status]).sort()).toEqual([
      ["email", "promotions", "unsubscribed"],
      ["sms", "promotions", "subscribed"],
    ]);
    for (const e of ledger) {
      expect(e.source).toBe("preference_center");
      expect(e.proof).toMatchObject({ deliveryId, userAgent: "PhoneBrowser/1.0" });
      expect(typeof e.proof.ip).toBe("string");
    }
    const overview = await consentOverview(db(), t.ws, t.customerId);
    const promo = overview.topics.find((x) => x.key === "promotions");
    expect(promo?.channels.email).toEqual({ subscribed: false, source: "topic" });
    expect(promo?.channels.sms).toEqual({ subscribed: true, source: "topic" });
    // the page shown after saving reflects it, and posting it again changes nothing more
    const again = await formPost(t.pageViaUnsubscribe, formAsRendered(saved.body));
    expect(again.body).toContain("Nothing changed.");
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 50 })).data).toHaveLength(2);
  });

  it("pauses everything for a month, and lifts the pause", async () => {
    const t = await setup();
    const page = await app.inject({ method: "GET", url: t.page });
    const form = formAsRendered(page.body);
    form.set("pause", "1m");
    const before = Date.now();
    const res = await formPost(t.page, form);
    expect(res.statusCode).toBe(200);
    const paused = (await getPreferences(db(), t.ws, t.customerId)).pausedUntil;
    const ms = Date.parse(paused ?? "");
    expect(ms - before).toBeGreaterThan(27 * 86_400_000);
    expect(ms - before).toBeLessThan(32 * 86_400_000);
    expect(res.body).toContain("Paused until");
    // the page now offers to keep the pause, preselected: posting it as is keeps it
    const kept = await formPost(t.page, formAsRendered(res.body));
    expect(kept.body).toContain("Nothing changed.");
    expect((await getPreferences(db(), t.ws, t.customerId)).pausedUntil).toBe(paused);
    const lift = formAsRendered(res.body);
    lift.set("pause", "none");
    await formPost(t.page, lift);
    expect((await getPreferences(db(), t.ws, t.customerId)).pausedUntil).toBeNull();
  });

  it("sets quiet hours and a time zone, and refuses half-given quiet hours without changing anything", async () => {
    const t = await setup();
    const page = await app.inject({ method: "GET", url: t.page });
    const half = formAsRendered(page.body);
    half.set("quietStart", "22:00");
    half.delete("sub");
    const refused = await formPost(t.page, half);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("Give both times, or neither.");
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data).toEqual([]);
    expect((await getPreferences(db(), t.ws, t.customerId)).quietHours).toBeNull();

    const badZone = formAsRendered(page.body);
    badZone.set("timezone", "Mars/Olympus");
    const refusedZone = await formPost(t.page, badZone);
    expect(refusedZone.statusCode).toBe(400);
    expect(refusedZone.body).toContain("IANA time zone");

    const form = formAsRendered(page.body);
    form.set("quietStart", "22:00");
    form.set("quietEnd", "07:30");
    form.set("timezone", "Europe/Paris");
    const res = await formPost(t.page, form);
    expect(res.statusCode).toBe(200);
    expect(await getPreferences(db(), t.ws, t.customerId)).toMatchObject({
      quietHours: { start: "22:00", end: "07:30" },
      timezone: "Europe/Paris",
    });
    expect(res.body).toContain('value="22:00"');
    expect(res.body).toContain("(Europe/Paris)");
  });

  it("writes zero-party answers as traits, and refuses answers that are not options", async () => {
    const t = await setup({ traits: { plan: "pro" } });
    const page = await app.inject({ method: "GET", url: t.page });
    const form = formAsRendered(page.body);
    form.append("q.interests", "running");
    form.append("q.interests", "hiking");
    form.set("q.shoeSize", "42");
    const res = await formPost(t.page, form);
    expect(res.statusCode).toBe(200);
    const traits = (await getCustomer(db(), t.ws, t.customerId)).traits;
    expect(traits).toMatchObject({ plan: "pro", interests: ["running", "hiking"], shoeSize: "42" });
    expect(res.body).toMatch(/value="hiking" checked/);

    const bad = formAsRendered(res.body);
    bad.set("q.shoeSize", "99");
    const refused = await formPost(t.page, bad);
    expect(refused.statusCode).toBe(400);
    expect((await getCustomer(db(), t.ws, t.customerId)).traits.shoeSize).toBe("42");
  });
});

describe("preference center links that do not work", () => {
  it("answers a tampered, malformed or expired token with a 403 page and changes nothing", async () => {
    const t = await setup();
    const token = t.page.split("/").pop() ?? "";
    const [body, sig] = token.split(".");
    const flipped = `${body}.${sig?.startsWith("A") ? "B" : "A"}${sig?.slice(1)}`;
    const expired = signLinkToken(t.settings.linkSecret, {
      purpose: "p",
      workspaceId: t.ws,
      customerId: t.customerId,
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    // a token signed with another workspace's secret
    const other = await createTestWorkspace(app.ctx.database);
    const foreign = signLinkToken((await getMessagingSettings(db(), other.workspace.id)).linkSecret, {
      purpose: "p",
      workspaceId: t.ws,
      customerId: t.customerId,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    for (const bad of [flipped, expired, foreign, "not-a-token", `${body}.`]) {
      const get = await app.inject({ method: "GET", url: `/preferences/${bad}` });
      expect(get.statusCode, bad).toBe(403);
      expect(get.body).toContain("This link no longer works");
      expect(get.body).toContain(`action="/preferences/renew/${bad}"`);
      expect(get.body).toContain('type="email"');
      const post = await formPost(
        `/preferences/${bad}`,
        new URLSearchParams({ shown: `email:${t.promotions.id}` }),
      );
      expect(post.statusCode).toBe(403);
    }
    expect((await consentLedger(db(), t.ws, t.customerId, { limit: 5 })).data).toEqual([]);
    const fr = await app.inject({
      method: "GET",
      url: `/preferences/${flipped}`,
      headers: { "accept-language": "fr" },
    });
    expect(fr.statusCode).toBe(403);
    expect(fr.body).toContain("Ce lien ne fonctionne plus");
  });

  it("offers a fresh link and answers the same whether or not the address is known", async () => {
    const t = await setup();
    const expired = signLinkToken(t.settings.linkSecret, {
      purpose: "p",
      workspaceId: t.ws,
      customerId: t.customerId,
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    const known = await formPost(`/preferences/renew/${expired}`, new URLSearchParams({ email: t.email }));
    const unknown = await formPost(
      `/preferences/renew/${expired}`,
      new URLSearchParams({ email: "nobody@example.com" }),
    );
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.body).toBe(unknown.body);
    expect(known.body).toContain("If this address is known to us");
    // the known customer got one account message through the Gate; asking again within the hour sends no other
    await formPost(`/preferences/renew/${expired}`, new URLSearchParams({ email: t.email }));
    const sent = await listDeliveries(db(), t.ws, { limit: 10 });
    expect(sent.data).toHaveLength(1);
    expect(sent.data[0]).toMatchObject({
      customerId: t.customerId,
      topic: "account",
      kind: "transactional",
      channel: "email",
      source: "preference_center",
    });
  });

  it("sends the fresh link through sendMessage only to a customer of the token's workspace", async () => {
    const t = await setup();
    const send = vi.fn<SendFn>(async () => ({
      deliveryId: uuidv7(),
      decision: "send" as const,
      state: "queued",
      channel: "email" as const,
      replayed: false,
    }));
    const base = {
      publicUrl: "https://rapport.example",
      defaultCountry: "US",
      language: "en" as const,
      send,
      nowMs: Date.parse("2030-01-01T10:20:00Z"),
    };
    expect(await sendFreshPreferenceLink(db(), t.ws, { ...base, email: "nobody@example.com" })).toEqual({
      sent: false,
    });
    expect(await sendFreshPreferenceLink(db(), t.ws, { ...base, email: "not an email" })).toEqual({
      sent: false,
    });
    const other = await createTestWorkspace(app.ctx.database);
    expect(await sendFreshPreferenceLink(db(), other.workspace.id, { ...base, email: t.email })).toEqual({
      sent: false,
    });
    expect(send).not.toHaveBeenCalled();
    expect(await sendFreshPreferenceLink(db(), t.ws, { ...base, email: t.email.toUpperCase() })).toEqual({
      sent: true,
    });
    expect(send).toHaveBeenCalledTimes(1);
    const [, ws, request, opts] = send.mock.calls[0] ?? [];
    expect(ws).toBe(t.ws);
    expect(opts).toEqual({ publicUrl: "https://rapport.example" });
    expect(request).toMatchObject({
      customerId: t.customerId,
      topic: "account",
      channel: "email",
      source: "preference_center",
      idempotencyKey: `preference-link:${t.customerId}:${Date.parse("2030-01-01T10:00:00Z")}`,
    });
    const url = /https:\/\/rapport\.example\/preferences\/\S+/.exec(request?.content?.text ?? "")?.[0];
    expect(url).toBeDefined();
  });
});
