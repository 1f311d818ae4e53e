import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { listAudit } from "../src/platform/audit.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";
import { type ApiCall, apiCaller, uniqueKey, welcomeSms } from "./support/templates.ts";

let app: App;
let t: TestWorkspace;

beforeAll(async () => {
  app = await testApp();
  t = await createTestWorkspace(app.ctx.database);
});
afterAll(async () => app?.close());

const call = apiCaller(
  () => app,
  () => t.secretKey,
);

async function expectInvalid(payload: Record<string, unknown>, pattern: RegExp) {
  const res = await call({ method: "POST", url: "/api/v1/templates", payload });
  expect(res.statusCode, res.body).toBe(400);
  expect(res.json().error.message).toMatch(pattern);
  return res.json().error;
}

describe("templates CRUD", () => {
  it("creates, reads, lists, updates and deletes a template", async () => {
    const key = uniqueKey("welcome");
    const created = await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      key,
      name: "Welcome",
      channel: "sms",
      defaultLanguage: "en",
      topicId: null,
    });

    const got = await call({ method: "GET", url: `/api/v1/templates/${key}` });
    expect(got.json().variants["fr-CA"].text).toBe("Allô {{ customer.traits.first_name }}");

    const list = await call({ method: "GET", url: "/api/v1/templates?channel=sms" });
    expect(list.json().data.map((x: { key: string }) => x.key)).toContain(key);

    const updated = await call({
      method: "PUT",
      url: `/api/v1/templates/${key}`,
      payload: { name: "Welcome v2", variants: { en: { text: "Hi {{ customer.traits.first_name }}" } } },
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json().name).toBe("Welcome v2");
    expect(Object.keys(updated.json().variants)).toEqual(["en"]);

    const deleted = await call({ method: "DELETE", url: `/api/v1/templates/${key}` });
    expect(deleted.statusCode).toBe(204);
    const gone = await call({ method: "GET", url: `/api/v1/templates/${key}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error).toMatchObject({ code: "delivery.template_not_found" });
    expect(gone.json().error.message).toContain(`"${key}"`);

    const audit = await listAudit(app.ctx.database.db, t.workspace.id, { limit: 10 });
    const actions = audit.entries.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["template.created", "template.updated", "template.deleted"]),
    );
  });

  it("pages through templates in key order", async () => {
    const ws = await createTestWorkspace(app.ctx.database);
    for (const key of ["c-three", "a-one", "b-two"]) {
      const res = await call({
        method: "POST",
        url: "/api/v1/templates",
        payload: welcomeSms(key),
        key: ws.secretKey,
      });
      expect(res.statusCode).toBe(201);
    }
    const first = (await call({ method: "GET", url: "/api/v1/templates?limit=2", key: ws.secretKey })).json();
    expect(first.data.map((x: { key: string }) => x.key)).toEqual(["a-one", "b-two"]);
    const second = (
      await call({
        method: "GET",
        url: `/api/v1/templates?limit=2&cursor=${first.nextCursor}`,
        key: ws.secretKey,
      })
    ).json();
    expect(second).toMatchObject({ data: [{ key: "c-three" }], nextCursor: null });
  });

  it("answers 404 naming the key for an unknown template, and another workspace's", async () => {
    for (const [method, url, payload] of [
      ["GET", "/api/v1/templates/nope", undefined],
      ["PUT", "/api/v1/templates/nope", { name: "x" }],
      ["DELETE", "/api/v1/templates/nope", undefined],
      ["POST", "/api/v1/templates/nope/preview", {}],
    ] as const) {
      const res = await call({ method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.message).toContain('"nope"');
    }
    const key = uniqueKey("mine");
    await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) });
    const other = await createTestWorkspace(app.ctx.database);
    expect(
      (await call({ method: "GET", url: `/api/v1/templates/${key}`, key: other.secretKey })).statusCode,
    ).toBe(404);
  });

  it("refuses a duplicate key with 409", async () => {
    const key = uniqueKey("dup");
    expect(
      (await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) })).statusCode,
    ).toBe(201);
    const again = await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("delivery.template_already_exists");
  });

  it("lets agents read and preview, and only admins and owners write", async () => {
    const agent = await signedIn(app, "agent");
    const admin = await signedIn(app, "admin");
    const asUser = (
      cookies: Record<string, string>,
      method: ApiCall["method"],
      url: string,
      payload?: Record<string, unknown>,
    ) => app.inject({ method, url, cookies, ...(payload !== undefined ? { payload } : {}) });

    const made = await asUser(admin.cookies, "POST", "/api/v1/templates", welcomeSms("by-admin"));
    expect(made.statusCode, made.body).toBe(201);

    expect(
      (await asUser(agent.cookies, "POST", "/api/v1/templates", welcomeSms("by-agent"))).statusCode,
    ).toBe(403);
    const byKey = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: welcomeSms("shared"),
      key: agent.secretKey,
    });
    expect(byKey.statusCode).toBe(201);
    expect((await asUser(agent.cookies, "GET", "/api/v1/templates/shared")).statusCode).toBe(200);
    expect((await asUser(agent.cookies, "GET", "/api/v1/templates")).json().data).toHaveLength(1);
    const preview = await asUser(agent.cookies, "POST", "/api/v1/templates/shared/preview", {
      customer: { traits: { first_name: "Ada" } },
    });
    expect(preview.json().content.text).toBe("Hello Ada");
    expect((await asUser(agent.cookies, "PUT", "/api/v1/templates/shared", { name: "x" })).statusCode).toBe(
      403,
    );
    expect((await asUser(agent.cookies, "DELETE", "/api/v1/templates/shared")).statusCode).toBe(403);
    expect((await asUser(agent.cookies, "GET", "/api/v1/templates/shared")).json().name).toBe("Welcome");
    expect((await app.inject({ method: "GET", url: "/api/v1/templates" })).statusCode).toBe(401);
  });
});

describe("templates OpenAPI", () => {
  it("documents every template route", async () => {
    const res = await app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths;
    expect(Object.keys(paths["/api/v1/templates"])).toEqual(expect.arrayContaining(["get", "post"]));
    expect(Object.keys(paths["/api/v1/templates/{key}"])).toEqual(
      expect.arrayContaining(["get", "put", "delete"]),
    );
    expect(paths["/api/v1/templates/{key}/preview"].post).toBeDefined();
  });
});

describe("templates refuse bad input and keep nothing", () => {
  it("says where a Liquid syntax error is: field, language, line and what", async () => {
    const error = await expectInvalid(
      {
        key: uniqueKey("syntax"),
        name: "Broken",
        channel: "email",
        variants: {
          en: { subject: "Hi", body: "<p>ok</p>" },
          fr: { subject: "Salut", body: "<p>Bonjour</p>\n<p>{% if customer.traits.vip %}VIP</p>\n" },
        },
      },
      /body \(fr\), line 2, column 4: tag \{% if customer.traits.vip %\} not closed/,
    );
    expect(error).toMatchObject({
      code: "delivery.template_invalid",
      details: { field: "body", language: "fr", line: 2, column: 4 },
    });
    await expectInvalid(
      { key: uniqueKey("output"), name: "x", variants: { en: { text: "Hi {{ customer.traits.name " } } },
      /text \(en\), line 1.*not closed/,
    );
    await expectInvalid(
      { key: uniqueKey("filter"), name: "x", variants: { en: { text: "Hi {{ data.x | shout }}" } } },
      /text \(en\), line 1, column 4: undefined filter: shout/,
    );
  });

  it("refuses include, render and layout when saving", async () => {
    for (const tag of ["{% include 'footer' %}", "{% render 'footer' %}", "{% layout 'base' %}"]) {
      await expectInvalid(
        { key: uniqueKey("include"), name: "x", variants: { en: { text: `Hi\n${tag}` } } },
        /text \(en\), line 2, column 1: .* is not available: a template cannot load other templates or files/,
      );
    }
  });

  it("refuses MJML that does not compile, at the author's line", async () => {
    const body = [
      "<mjml>",
      "  <mj-body>",
      "    {% for item in data.items %}",
      "    <mj-section>",
      "      <mj-text>{{ item.name }}</mj-text>",
      "    </mj-section>",
      "    {% endfor %}",
      "  </mj-body>",
      "</mjml>",
    ].join("\n");
    const error = await expectInvalid(
      { key: uniqueKey("mjml"), name: "x", channel: "email", variants: { en: { subject: "s", body } } },
      /body \(en\): the MJML does not compile: line 5 \(mj-text\): mj-text cannot be used inside mj-section/,
    );
    expect(error.details).toMatchObject({ field: "body", language: "en", line: 5 });
    await expectInvalid(
      {
        key: uniqueKey("mjml-include"),
        name: "x",
        channel: "email",
        variants: {
          en: {
            subject: "s",
            body: '<mjml>\n<mj-body>\n<mj-include path="/etc/passwd" />\n</mj-body></mjml>',
          },
        },
      },
      /body \(en\), line 3: <mj-include> is not available/,
    );
  });

  it("accepts MJML whose structure and attributes use Liquid", async () => {
    const body = `<mjml><mj-body>
      {% for item in data.items %}<mj-section><mj-column>
        <mj-image src="{{ item.image }}" width="{{ item.width }}px" />
        <mj-text>{{ item.name }}</mj-text>
      </mj-column></mj-section>{% endfor %}
      </mj-body></mjml>`;
    const res = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: {
        key: uniqueKey("loop"),
        name: "x",
        channel: "email",
        variants: { en: { subject: "s", body } },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
  });

  it("needs a variant for the default language, at least one variant, and what the channel needs", async () => {
    const error = await expectInvalid(
      { key: uniqueKey("nodefault"), name: "x", defaultLanguage: "fr", variants: { en: { text: "Hi" } } },
      /default language "fr" has no variant/,
    );
    expect(error.details).toMatchObject({ field: "defaultLanguage" });
    await expectInvalid({ key: uniqueKey("novariant"), name: "x", variants: {} }, /at least one variant/);
    await expectInvalid(
      { key: uniqueKey("nosubject"), name: "x", channel: "email", variants: { en: { body: "<p>x</p>" } } },
      /en variant needs a subject/,
    );
    await expectInvalid(
      { key: uniqueKey("notext"), name: "x", channel: "push", variants: { en: { title: "Hi" } } },
      /en variant needs a text: a push message is sent as text/,
    );
    await expectInvalid(
      {
        key: uniqueKey("twice"),
        name: "x",
        variants: { "fr-CA": { text: "a" }, fr_ca: { text: "b" }, en: { text: "c" } },
      },
      /same language "fr-CA"/,
    );
  });

  it("refuses a bad key, an unknown field or topic, and keeps nothing", async () => {
    const badKey = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: { ...welcomeSms("Bad Key"), key: "Bad Key" },
    });
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json().error.code).toBe("request.invalid");
    expect(badKey.json().error.message).toMatch(/key/);
    const extra = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: { ...welcomeSms(uniqueKey("extra")), variants: { en: { text: "x", footer: "y" } } },
    });
    expect(extra.statusCode).toBe(400);
    const badLanguage = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: { ...welcomeSms(uniqueKey("language")), variants: { "english!": { text: "x" } } },
    });
    expect(badLanguage.statusCode).toBe(400);
    expect(badLanguage.json().error.message).toMatch(/language tag/);
    const topicKey = uniqueKey("topic");
    await expectInvalid(
      { ...welcomeSms(topicKey), topicId: uuidv7() },
      /topicId .* is not a topic of this workspace/,
    );
    expect((await call({ method: "GET", url: `/api/v1/templates/${topicKey}` })).statusCode).toBe(404);
  });

  it("leaves a template unchanged when an update is refused", async () => {
    const key = uniqueKey("keep");
    await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) });
    const refused = await call({
      method: "PUT",
      url: `/api/v1/templates/${key}`,
      payload: { name: "Changed", variants: { en: { text: "{% if x %}" } } },
    });
    expect(refused.statusCode).toBe(400);
    const refusedDefault = await call({
      method: "PUT",
      url: `/api/v1/templates/${key}`,
      payload: { defaultLanguage: "de" },
    });
    expect(refusedDefault.json().error.message).toMatch(/default language "de" has no variant/);
    const after = (await call({ method: "GET", url: `/api/v1/templates/${key}` })).json();
    expect(after.name).toBe("Welcome");
    expect(Object.keys(after.variants).sort()).toEqual(["en", "fr", "fr-CA"]);
  });
});
