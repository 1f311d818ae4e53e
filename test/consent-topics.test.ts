import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { updateMessagingSettings } from "../src/consent/settings-admin.ts";
import { createTopic, ensureDefaultTopics, getTopicByKey, listTopics } from "../src/consent/topics.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { listAudit } from "../src/platform/audit.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => app?.close());

const db = () => app.ctx.database.db;

describe("topics", () => {
  it("gives every workspace the seven starter topics once, in English and French", async () => {
    const { workspace } = await createTestWorkspace(await testDatabase());
    await getMessagingSettings(db(), workspace.id);
    await ensureDefaultTopics(db(), workspace.id);
    await ensureDefaultTopics(db(), workspace.id);
    const found = await listTopics(db(), workspace.id);
    expect(found.map((t) => [t.key, t.kind])).toEqual([
      ["promotions", "marketing"],
      ["news", "marketing"],
      ["loyalty", "marketing"],
      ["events", "marketing"],
      ["service-status", "transactional"],
      ["account", "transactional"],
      ["support", "transactional"],
    ]);
    for (const t of found) {
      expect(t.names.en).toMatch(/\S/);
      expect(t.names.fr).toMatch(/\S/);
      expect(t.descriptions.en).toMatch(/\S/);
      expect(t.descriptions.fr).toMatch(/\S/);
    }
    expect(found[0]?.defaults).toEqual({
      email: "opt_out",
      push: "opt_out",
      in_app: "opt_out",
      sms: "opt_in",
      whatsapp: "opt_in",
    });
    expect(found[1]?.defaults).toEqual(found[0]?.defaults);
  });

  it("names the key and the valid keys when a topic is unknown", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    await expect(getTopicByKey(db(), workspace.id, "promos")).rejects.toMatchObject({
      code: "consent.topic_not_found",
      message: expect.stringMatching(/"promos".*promotions, news, loyalty, events, service-status, account/),
    });
  });

  it("accepts a name in the workspace's default language instead of English", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const input = { key: "soldes", names: { fr: "Soldes" }, kind: "marketing" };
    await expect(createTopic(db(), workspace.id, input)).rejects.toMatchObject({
      code: "consent.invalid_topic",
    });
    await updateMessagingSettings(db(), workspace.id, { defaultLanguage: "fr-FR" });
    expect((await createTopic(db(), workspace.id, input)).names).toEqual({ fr: "Soldes" });
  });
});

describe("topics REST API", () => {
  it("creates, reads, changes and archives a topic, recording who did it", async () => {
    const admin = await signedIn(app, "admin");
    const cookies = admin.cookies;
    const created = await app.inject({
      method: "POST",
      url: "/api/v1/topics",
      cookies,
      payload: {
        key: "flash-sales",
        names: { en: "Flash sales", fr: "Ventes flash" },
        descriptions: { en: "Deals for a few hours." },
        kind: "marketing",
        defaults: { email: "opt_out", sms: "opt_in" },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: "flash-sales", visible: true, archivedAt: null });
    const dup = await app.inject({
      method: "POST",
      url: "/api/v1/topics",
      cookies,
      payload: { key: "flash-sales", names: { en: "Again" }, kind: "marketing" },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe("consent.topic_already_exists");

    const patched = await app.inject({
      method: "PATCH",
      url: "/api/v1/topics/flash-sales",
      cookies,
      payload: { visible: false, defaults: { email: "opt_in" } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ visible: false, defaults: { email: "opt_in" } });
    const archived = await app.inject({ method: "DELETE", url: "/api/v1/topics/flash-sales", cookies });
    expect(archived.statusCode).toBe(200);
    expect(archived.json().archivedAt).not.toBeNull();
    const live = await app.inject({ method: "GET", url: "/api/v1/topics", cookies });
    expect(live.json().data.map((t: { key: string }) => t.key)).not.toContain("flash-sales");
    const all = await app.inject({ method: "GET", url: "/api/v1/topics?includeArchived=true", cookies });
    expect(all.json().data.map((t: { key: string }) => t.key)).toContain("flash-sales");
    const one = await app.inject({ method: "GET", url: "/api/v1/topics/flash-sales", cookies });
    expect(one.json().archivedAt).not.toBeNull();
    const restored = await app.inject({
      method: "PATCH",
      url: "/api/v1/topics/flash-sales",
      cookies,
      payload: { archived: false },
    });
    expect(restored.json().archivedAt).toBeNull();
    const audit = await listAudit(db(), admin.workspace.id, {});
    expect(audit.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(["topic.created", "topic.updated"]),
    );
  });

  it("refuses bad input with a clear error and writes nothing", async () => {
    const admin = await signedIn(app, "admin");
    const cookies = admin.cookies;
    const create = (payload: Record<string, unknown>) =>
      app.inject({ method: "POST", url: "/api/v1/topics", cookies, payload });
    const badKey = await create({ key: "Flash Sales", names: { en: "Flash" }, kind: "marketing" });
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json().error.message).toContain("lower-case letters, digits and dashes");
    const badChannel = await create({
      key: "flash",
      names: { en: "Flash" },
      kind: "marketing",
      defaults: { fax: "opt_in" },
    });
    expect(badChannel.statusCode).toBe(400);
    expect(badChannel.json().error.message).toContain('"fax" is not a channel');
    const noName = await create({ key: "flash", names: { de: "Blitz" }, kind: "marketing" });
    expect(noName.statusCode).toBe(400);
    expect(noName.json().error.code).toBe("consent.invalid_topic");
    expect(noName.json().error.message).toContain('"en"');
    const emptyName = await create({ key: "flash", names: { en: " " }, kind: "marketing" });
    expect(emptyName.statusCode).toBe(400);
    const badKind = await create({ key: "flash", names: { en: "Flash" }, kind: "promotional" });
    expect(badKind.statusCode).toBe(400);
    const unknown = await app.inject({
      method: "PATCH",
      url: "/api/v1/topics/flash",
      cookies,
      payload: { visible: false },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('"flash"');
    expect((await app.inject({ method: "GET", url: "/api/v1/topics/flash", cookies })).statusCode).toBe(404);
    expect(
      (await listTopics(db(), admin.workspace.id, { includeArchived: true })).map((t) => t.key),
    ).not.toContain("flash");
  });

  it("lets agents read topics but not change them", async () => {
    const agent = await signedIn(app, "agent");
    const cookies = agent.cookies;
    expect((await app.inject({ method: "GET", url: "/api/v1/topics", cookies })).statusCode).toBe(200);
    const create = await app.inject({
      method: "POST",
      url: "/api/v1/topics",
      cookies,
      payload: { key: "flash", names: { en: "Flash" }, kind: "marketing" },
    });
    expect(create.statusCode).toBe(403);
    const archive = await app.inject({ method: "DELETE", url: "/api/v1/topics/news", cookies });
    expect(archive.statusCode).toBe(403);
    expect((await getTopicByKey(db(), agent.workspace.id, "news")).archivedAt).toBeNull();
  });
});
