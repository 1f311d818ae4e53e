import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => app?.close());

const db = () => app.ctx.database.db;

async function customerIn(ws: string, traits: Record<string, unknown> = {}) {
  const { customerId } = await identify(db(), ws, {
    identifiers: [
      { kind: "email", value: `api-${uuidv7().slice(-12)}@example.com` },
      { kind: "phone", value: "+33612345678" },
    ],
    traits,
    reason: "test",
    defaultCountry: "US",
  });
  return customerId;
}

describe("messaging settings API", () => {
  it("shows admins the identity secret but never the link secret, and takes changes", async () => {
    const admin = await signedIn(app, "admin");
    const res = await app.inject({
      method: "GET",
      url: "/api/v1/settings/messaging",
      cookies: admin.cookies,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ defaultTimezone: "UTC", defaultLanguage: "en", optInCountries: [] });
    expect(res.json().identitySecret).toMatch(/^[\w-]{40,}$/);
    expect(res.json()).not.toHaveProperty("linkSecret");
    const patched = await app.inject({
      method: "PATCH",
      url: "/api/v1/settings/messaging",
      cookies: admin.cookies,
      payload: {
        defaultTimezone: "Europe/Paris",
        optInCountries: ["de", "FR", "FR"],
        defaultQuietHours: { start: "21:00", end: "08:00" },
        caps: [{ channel: "*", window: "week", limit: 3 }],
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      defaultTimezone: "Europe/Paris",
      optInCountries: ["DE", "FR"],
      defaultQuietHours: { start: "21:00", end: "08:00" },
    });
    expect(JSON.stringify(patched.json())).not.toContain("linkSecret");
  });

  it("refuses agents (403) and bad settings (400) without changing anything", async () => {
    const agent = await signedIn(app, "agent");
    const get = await app.inject({
      method: "GET",
      url: "/api/v1/settings/messaging",
      cookies: agent.cookies,
    });
    expect(get.statusCode).toBe(403);
    const patch = await app.inject({
      method: "PATCH",
      url: "/api/v1/settings/messaging",
      cookies: agent.cookies,
      payload: { defaultTimezone: "Europe/Paris" },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().error.code).toBe("auth.forbidden");

    const admin = await signedIn(app, "owner");
    const bad = async (payload: Record<string, unknown>, text: string) => {
      const res = await app.inject({
        method: "PATCH",
        url: "/api/v1/settings/messaging",
        cookies: admin.cookies,
        payload,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.message).toContain(text);
    };
    await bad({ defaultTimezone: "Mars/Olympus" }, "IANA");
    await bad({ optInCountries: ["XX"] }, '"XX"');
    await bad({ fallbackOrder: ["email", "email"] }, "twice");
    await bad({ fallbackOrder: ["fax"] }, "fallbackOrder");
    await bad({ defaultQuietHours: { start: "25:00", end: "08:00" } }, "HH:MM");
    await bad(
      {
        questions: [
          { key: "email", labels: { en: "Email?" }, options: [{ value: "a", labels: { en: "A" } }] },
        ],
      },
      '"email"',
    );
    await bad(
      {
        questions: [{ key: "size", labels: { de: "Größe" }, options: [{ value: "a", labels: { en: "A" } }] }],
      },
      "label",
    );
    const after = await app.inject({
      method: "GET",
      url: "/api/v1/settings/messaging",
      cookies: admin.cookies,
    });
    expect(after.json()).toMatchObject({
      defaultTimezone: "UTC",
      optInCountries: [],
      fallbackOrder: ["email", "push", "in_app", "sms", "whatsapp"],
    });
  });
});

describe("customer consent API", () => {
  it("records an agent's change with the agent as actor, and an API key's with the key as actor", async () => {
    const agent = await signedIn(app, "agent");
    const ws = agent.workspace.id;
    const id = await customerIn(ws);
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${id}/consent`,
      cookies: agent.cookies,
      payload: {
        changes: [{ channel: "email", topic: "news", status: "unsubscribed" }],
        proof: { note: "asked by phone" },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data[0]).toMatchObject({
      channel: "email",
      topic: "news",
      status: "unsubscribed",
      source: "agent",
      proof: { actorId: agent.user.id, note: "asked by phone" },
    });
    const byKey = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${id}/consent`,
      headers: { authorization: `Bearer ${agent.secretKey}` },
      payload: {
        changes: [{ channel: "sms", topic: null, status: "subscribed" }],
        source: "import",
        proof: { actorId: "someone-else", ip: "198.51.100.7" },
      },
    });
    expect(byKey.statusCode).toBe(200);
    expect(byKey.json().data[0].source).toBe("import");
    expect(byKey.json().data[0].proof.actorId).not.toBe("someone-else");
    expect(byKey.json().data[0].proof.ip).toBe("198.51.100.7");

    const overview = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent`,
      cookies: agent.cookies,
    });
    expect(overview.statusCode).toBe(200);
    const news = overview.json().topics.find((t: { key: string }) => t.key === "news");
    expect(news.channels.email).toEqual({ subscribed: false, source: "topic" });
    expect(news.channels.sms).toEqual({ subscribed: true, source: "channel" });
    expect(overview.json().country).toBe("FR");
    expect(overview.json().timezone).toBe("Europe/Paris");
    expect(overview.json().reachableChannels).toEqual(["email", "sms", "whatsapp"]);

    const page1 = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent/ledger?limit=1`,
      cookies: agent.cookies,
    });
    expect(page1.json().data[0].channel).toBe("sms");
    const page2 = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent/ledger?limit=1&cursor=${page1.json().nextCursor}`,
      cookies: agent.cookies,
    });
    expect(page2.json().data[0].channel).toBe("email");
    expect(page2.json().nextCursor).toBeNull();
  });

  it("explains bad input and unknown customers or topics, recording nothing", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const headers = { authorization: `Bearer ${t.secretKey}` };
    const id = await customerIn(t.workspace.id);
    const post = (customer: string, payload: unknown) =>
      app.inject({
        method: "POST",
        url: `/api/v1/customers/${customer}/consent`,
        headers,
        payload: payload as object,
      });
    const unknownTopic = await post(id, {
      changes: [{ channel: "email", topic: "promos", status: "subscribed" }],
    });
    expect(unknownTopic.statusCode).toBe(404);
    expect(unknownTopic.json().error.message).toContain('"promos"');
    expect(
      (await post(id, { changes: [{ channel: "fax", topic: null, status: "subscribed" }] })).statusCode,
    ).toBe(400);
    expect(
      (await post(id, { changes: [{ channel: "email", topic: null, status: "maybe" }] })).statusCode,
    ).toBe(400);
    expect((await post(id, { changes: [] })).statusCode).toBe(400);
    expect(
      (
        await post(id, {
          changes: [{ channel: "email", topic: null, status: "subscribed" }],
          source: "one_click",
        })
      ).statusCode,
    ).toBe(400);
    const unknownCustomer = await post(uuidv7(), {
      changes: [{ channel: "email", topic: null, status: "subscribed" }],
    });
    expect(unknownCustomer.statusCode).toBe(404);
    expect(unknownCustomer.json().error.code).toBe("consent.customer_not_found");
    const badId = await app.inject({ method: "GET", url: "/api/v1/customers/abc/consent", headers });
    expect(badId.statusCode).toBe(400);
    const other = await createTestWorkspace(app.ctx.database);
    const foreign = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent`,
      headers: { authorization: `Bearer ${other.secretKey}` },
    });
    expect(foreign.statusCode).toBe(404);
    const ledger = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent/ledger`,
      headers,
    });
    expect(ledger.json().data).toEqual([]);
    const badCursor = await app.inject({
      method: "GET",
      url: `/api/v1/customers/${id}/consent/ledger?cursor=zzz`,
      headers,
    });
    expect(badCursor.statusCode).toBe(400);
  });

  it("reads and changes preferences, refusing bad values field by field", async () => {
    const agent = await signedIn(app, "agent");
    const id = await customerIn(agent.workspace.id);
    const url = `/api/v1/customers/${id}/preferences`;
    const initial = await app.inject({ method: "GET", url, cookies: agent.cookies });
    expect(initial.json()).toEqual({
      timezone: null,
      language: null,
      quietHours: null,
      pausedUntil: null,
      channelOrder: [],
      updatedAt: null,
    });
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const put = await app.inject({
      method: "PUT",
      url,
      cookies: agent.cookies,
      payload: {
        timezone: "america/new_york",
        language: "fr-CA",
        pausedUntil: until,
        channelOrder: ["sms", "email"],
      },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      timezone: "America/New_York",
      language: "fr",
      pausedUntil: until,
      channelOrder: ["sms", "email"],
    });
    const bad = async (payload: Record<string, unknown>, field: string) => {
      const res = await app.inject({ method: "PUT", url, cookies: agent.cookies, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.message).toContain(field);
    };
    await bad({ timezone: "Nowhere" }, "timezone");
    await bad({ language: "de" }, "language");
    await bad({ quietHours: { start: "22:00" } }, "quietHours");
    await bad({ pausedUntil: new Date(Date.now() - 1000).toISOString() }, "future");
    await bad({ pausedUntil: new Date(Date.now() + 400 * 86_400_000).toISOString() }, "one year");
    await bad({ channelOrder: ["email", "email"] }, "twice");
    const after = await app.inject({ method: "GET", url, cookies: agent.cookies });
    expect(after.json()).toMatchObject({
      timezone: "America/New_York",
      language: "fr",
      channelOrder: ["sms", "email"],
    });
  });

  it("gives agents a working preference-center link", async () => {
    const agent = await signedIn(app, "agent");
    const id = await customerIn(agent.workspace.id);
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${id}/preference-link`,
      cookies: agent.cookies,
    });
    expect(res.statusCode).toBe(200);
    const url = new URL(res.json().url);
    expect(`${url.origin}`).toBe(new URL(app.ctx.config.publicUrl).origin);
    const page = await app.inject({ method: "GET", url: url.pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Your preferences");
    const unknown = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${uuidv7()}/preference-link`,
      cookies: agent.cookies,
    });
    expect(unknown.statusCode).toBe(404);
    const anonymous = await app.inject({ method: "POST", url: `/api/v1/customers/${id}/preference-link` });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe("consent API documentation", () => {
  it("lists the consent routes in OpenAPI, and not the public pages", async () => {
    const spec = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const paths = Object.keys(spec.paths);
    for (const p of [
      "/api/v1/topics",
      "/api/v1/topics/{key}",
      "/api/v1/customers/{id}/consent",
      "/api/v1/customers/{id}/consent/ledger",
      "/api/v1/customers/{id}/preferences",
      "/api/v1/customers/{id}/preference-link",
      "/api/v1/suppressions",
      "/api/v1/suppressions/{channel}/{address}",
      "/api/v1/settings/messaging",
      "/api/v1/app/preferences",
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(paths.filter((p) => p.startsWith("/preferences") || p.startsWith("/unsubscribe"))).toEqual([]);
  });
});
