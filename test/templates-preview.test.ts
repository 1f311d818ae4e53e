import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTopics } from "../src/consent/topics.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { apiCaller, uniqueKey, welcomeSms } from "./support/templates.ts";

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

describe("template preview", () => {
  it("chooses fr-CA, then fr, then the default language", async () => {
    const key = uniqueKey("langs");
    await call({ method: "POST", url: "/api/v1/templates", payload: welcomeSms(key) });
    const preview = async (language?: string) =>
      (
        await call({
          method: "POST",
          url: `/api/v1/templates/${key}/preview`,
          payload: { ...(language ? { language } : {}), customer: { traits: { first_name: "Zoé" } } },
        })
      ).json();
    expect(await preview("fr-CA")).toMatchObject({
      language: "fr-CA",
      channel: "sms",
      content: { text: "Allô Zoé" },
    });
    expect(await preview("fr-BE")).toMatchObject({ language: "fr", content: { text: "Bonjour Zoé" } });
    expect(await preview("de")).toMatchObject({ language: "en", content: { text: "Hello Zoé" } });
    expect(await preview()).toMatchObject({ language: "en" });
  });

  it("renders an email with the topic, escaped traits and placeholder links", async () => {
    const topics = await listTopics(app.ctx.database.db, t.workspace.id);
    const news = topics.find((x) => x.key === "news");
    if (!news) throw new Error("the starter topics have no news topic");
    const topicId = news.id;
    const key = uniqueKey("email");
    const created = await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: {
        key,
        name: "Shipped",
        channel: "email",
        topicId,
        variants: {
          fr: { subject: "{{ topic.name }} ({{ topic.key }})", text: "Bonjour" },
          en: {
            subject: "{{ topic.name }}: {{ data.order_id }}",
            body: '<p>Hi {{ customer.traits.first_name }} ({{ customer.identities.email[0] }})</p><a href="{% unsubscribe_url %}">Stop</a> <a href="{{ links.preferences }}">Prefs</a>',
          },
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const res = await call({
      method: "POST",
      url: `/api/v1/templates/${key}/preview`,
      payload: {
        customer: { traits: { first_name: "<script>x</script>" }, identities: { email: ["z@example.com"] } },
        data: { order_id: "A-1" },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const { content } = res.json();
    expect(content.subject).toBe(`${news.names.en}: A-1`);
    expect(content.html).toBe(
      '<p>Hi &lt;script&gt;x&lt;/script&gt; (z@example.com)</p><a href="https://preview.invalid/unsubscribe">Stop</a> <a href="https://preview.invalid/preferences">Prefs</a>',
    );
    expect(content.text).toContain("Hi <script>x</script> (z@example.com)");
    expect(content.text).toContain("Stop (https://preview.invalid/unsubscribe)");
    // the topic's name in the variant's language
    const fr = await call({
      method: "POST",
      url: `/api/v1/templates/${key}/preview`,
      payload: { language: "fr-FR" },
    });
    expect(fr.json()).toMatchObject({
      language: "fr",
      content: { subject: `${news.names.fr} (news)`, text: "Bonjour" },
    });
    expect(fr.json().content.html).toBeUndefined();
  });

  it("stops a runaway loop with the render limit and says so", async () => {
    const key = uniqueKey("loop");
    await call({
      method: "POST",
      url: "/api/v1/templates",
      payload: {
        key,
        name: "x",
        variants: {
          en: {
            text: "{% for a in (1..100000) %}{% for b in (1..100000) %}{% assign c = a | plus: b %}{% endfor %}{% endfor %}",
          },
        },
      },
    });
    const started = Date.now();
    const res = await call({ method: "POST", url: `/api/v1/templates/${key}/preview`, payload: {} });
    // the request is well formed; the template cannot render it (src/http/error-status.ts)
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: "delivery.template_render_failed",
      details: { field: "text" },
    });
    expect(res.json().error.message).toMatch(
      /text \(en\): line 1, column \d+: template render limit exceeded/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
