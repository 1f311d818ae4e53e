import { Liquid } from "liquidjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isAppError } from "../errors.ts";
import { htmlToText } from "./html-text.ts";
import {
  canonicalLanguage,
  chooseVariant,
  type RenderContext,
  renderContent,
  renderVariant,
} from "./render.ts";
import type { TemplateVariant } from "./tables.ts";
import { maskLiquid } from "./template-check.ts";

function context(overrides: Partial<RenderContext> = {}): RenderContext {
  return {
    customer: {
      id: "0190a0b0-0000-7000-8000-000000000001",
      traits: { first_name: "Ada", plan: "pro" },
      identities: { email: ["ada@example.com", "ada@work.example"], phone: ["+33612345678"] },
    },
    data: { order_id: "A-42", items: [{ name: "Tea", qty: 2 }] },
    topic: { key: "orders", name: "Orders" },
    language: "en",
    links: {
      preferences: "https://rapport.test/p/prefs?t=abc&c=1",
      unsubscribe: "https://rapport.test/u/unsub?t=xyz&c=2",
    },
    ...overrides,
  };
}

async function renderError(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
  throw new Error("expected the render to fail");
}

describe("chooseVariant", () => {
  const variants: Record<string, TemplateVariant> = {
    en: { text: "Hello" },
    fr: { text: "Bonjour" },
    "fr-CA": { text: "Allô" },
  };

  it("takes the exact language, then its base, then the default", () => {
    expect(chooseVariant(variants, "en", "fr-CA").language).toBe("fr-CA");
    expect(chooseVariant(variants, "en", "fr-BE").language).toBe("fr");
    expect(chooseVariant(variants, "en", "fr").language).toBe("fr");
    expect(chooseVariant(variants, "en", "de-DE").language).toBe("en");
    expect(chooseVariant(variants, "en", null).variant.text).toBe("Hello");
  });

  it("matches tags whatever their spelling", () => {
    expect(chooseVariant(variants, "en", "fr_ca").language).toBe("fr-CA");
    expect(chooseVariant(variants, "EN", "FR").language).toBe("fr");
    expect(canonicalLanguage("zh_hant_tw")).toBe("zh-Hant-TW");
    expect(canonicalLanguage("es-419")).toBe("es-419");
  });
});

describe("renderVariant", () => {
  it("personalises an MJML email, escapes traits in the HTML, and derives the text part", async () => {
    const variant: TemplateVariant = {
      subject: "Order {{ data.order_id }} for {{ customer.traits.first_name }}",
      body: `<mjml><mj-body><mj-section><mj-column>
        <mj-text>Hi {{ customer.traits.first_name }}, {% for i in data.items %}{{ i.qty }}× {{ i.name }}{% endfor %}</mj-text>
        <mj-text>Sent to {{ customer.identities.email[0] }}</mj-text>
        <mj-button href="https://shop.test/orders/{{ data.order_id }}">Track it</mj-button>
        <mj-text><a href="{% unsubscribe_url %}">Unsubscribe</a></mj-text>
      </mj-column></mj-section></mj-body></mjml>`,
    };
    const out = await renderVariant(variant, "email", context());
    expect(out.subject).toBe("Order A-42 for Ada");
    expect(out.html).toContain("<!doctype html>");
    expect(out.html).toContain("Hi Ada, 2× Tea");
    expect(out.html).toContain("ada@example.com");
    expect(out.html).toContain('href="https://shop.test/orders/A-42"');
    // the link's & is escaped in the attribute, as HTML requires
    expect(out.html).toContain('href="https://rapport.test/u/unsub?t=xyz&amp;c=2"');
    expect(out.text).toContain("Hi Ada, 2× Tea");
    expect(out.text).toContain("Track it (https://shop.test/orders/A-42)");
    expect(out.text).toContain("Unsubscribe (https://rapport.test/u/unsub?t=xyz&c=2)");
    expect(out.text).not.toContain("<");
  });

  it("escapes a trait holding <script> in email HTML but not in SMS text or the subject", async () => {
    const ctx = context({
      customer: { id: "c", traits: { first_name: "<script>alert(1)</script>" }, identities: {} },
    });
    const email = await renderVariant(
      { subject: "Hi {{ customer.traits.first_name }}", body: "<p>Hi {{ customer.traits.first_name }}</p>" },
      "email",
      ctx,
    );
    expect(email.html).toBe("<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>");
    expect(email.html).not.toContain("<script>");
    expect(email.subject).toBe("Hi <script>alert(1)</script>");
    expect(email.text).toBe("Hi <script>alert(1)</script>");
    const sms = await renderVariant({ text: "Hi {{ customer.traits.first_name }}" }, "sms", ctx);
    expect(sms).toEqual({ text: "Hi <script>alert(1)</script>" });
    // `raw` is the author's explicit opt-out
    const raw = await renderContent(
      { subject: "s", text: "t", html: "{{ data.snippet | raw }}" },
      "email",
      context({ data: { snippet: "<b>bold</b>" } }),
    );
    expect(raw.html).toBe("<b>bold</b>");
  });

  it("outputs the preference and unsubscribe links from tags and variables", async () => {
    const out = await renderVariant(
      { text: "Stop: {% unsubscribe_url %} Prefs: {% preferences_url %} {{ links.unsubscribe }}" },
      "sms",
      context(),
    );
    expect(out.text).toBe(
      "Stop: https://rapport.test/u/unsub?t=xyz&c=2 Prefs: https://rapport.test/p/prefs?t=abc&c=1 https://rapport.test/u/unsub?t=xyz&c=2",
    );
  });

  it("uses the variant's own text part and the push title", async () => {
    const email = await renderVariant(
      { subject: "S", body: "<p>{{ topic.name }}</p>", text: "Plain {{ topic.key }}" },
      "email",
      context(),
    );
    expect(email).toEqual({ subject: "S", html: "<p>Orders</p>", text: "Plain orders" });
    const push = await renderVariant(
      { title: "{{ topic.name }}", text: "Hi {{ customer.id }}" },
      "push",
      context(),
    );
    expect(push).toEqual({ title: "Orders", text: `Hi ${context().customer.id}` });
    const sms = await renderVariant({ title: "ignored", text: "x" }, "sms", context());
    expect(sms).toEqual({ text: "x" });
  });

  it("reads only own properties", async () => {
    const out = await renderVariant(
      { text: "[{{ customer.traits.constructor }}][{{ customer.traits.__proto__ }}][{{ data.toString }}]" },
      "sms",
      context(),
    );
    expect(out.text).toBe("[][][]");
  });

  it("refuses a missing subject or text with a clear error", async () => {
    const noSubject = await renderError(() => renderVariant({ body: "<p>x</p>" }, "email", context()));
    expect(noSubject.code).toBe("delivery.template_render_failed");
    expect(noSubject.message).toMatch(/subject/);
    const noText = await renderError(() =>
      renderVariant({ subject: "x", body: "<p>x</p>" }, "sms", context()),
    );
    expect(noText.message).toMatch(/sms message needs a text/);
    const empty = await renderError(() =>
      renderContent({ subject: "{{ data.nothing }}", text: "t" }, "email", context()),
    );
    expect(empty.message).toMatch(/subject renders empty/);
  });

  it("says which field and line failed and why", async () => {
    const err = await renderError(() =>
      renderContent({ subject: "ok", text: "line one\n{{ data.order_id | shout }}" }, "email", context()),
    );
    expect(err.code).toBe("delivery.template_render_failed");
    expect(err.message).toMatch(/text \(en\): line 2, column 1: undefined filter: shout/);
    expect(err.details).toMatchObject({ field: "text", language: "en", line: 2 });
  });

  it("refuses include, render and layout", async () => {
    for (const tag of ["{% include 'secrets' %}", "{% render '/etc/passwd' %}", "{% layout 'x' %}"]) {
      const err = await renderError(() => renderContent({ text: tag }, "sms", context()));
      expect(err.code).toBe("delivery.template_render_failed");
      expect(err.message).toMatch(/cannot load other templates or files/);
    }
  });

  it("stops a runaway loop at the render limit", async () => {
    const started = Date.now();
    const err = await renderError(() =>
      renderContent(
        {
          text: "{% for a in (1..5000) %}{% for b in (1..5000) %}{% assign x = a | times: b %}{% endfor %}{% endfor %}",
        },
        "sms",
        context(),
      ),
    );
    expect(err.message).toMatch(/render limit exceeded/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports MJML that does not compile", async () => {
    const err = await renderError(() =>
      renderContent(
        {
          subject: "s",
          text: "t",
          html: "<mjml><mj-body><mj-section><mj-text>x</mj-text></mj-section></mj-body></mjml>",
        },
        "email",
        context(),
      ),
    );
    expect(err.message).toMatch(
      /MJML does not compile: line 1 \(mj-text\): mj-text cannot be used inside mj-section/,
    );
  });
});

describe("parse cache", () => {
  afterEach(() => vi.restoreAllMocks());

  it("parses a template once however many times it is rendered", async () => {
    const parse = vi.spyOn(Liquid.prototype, "parse");
    const variant = { text: `Hi {{ customer.traits.first_name }} ${Math.random()}` };
    for (let i = 0; i < 1_000; i++) {
      const out = await renderVariant(variant, "sms", context({ data: { i } }));
      expect(out.text.startsWith("Hi Ada")).toBe(true);
    }
    expect(parse).toHaveBeenCalledTimes(1);
  });
});

describe("htmlToText", () => {
  it("keeps words, paragraphs, list items and links as text (url)", () => {
    const html = `<html><head><title>T</title><style>p{color:red}</style></head><body>
      <div style="display:none;max-height:0">preview text</div>
      <!-- a comment -->
      <h1>Your&nbsp;order</h1><p>Thanks, Ada &amp; co.<br>See <a href="https://x.test/o?a=1&amp;b=2">your order</a>.</p>
      <ul><li>Tea</li><li>Cake</li></ul>
      <p><a href="https://x.test/plain">https://x.test/plain</a> <a href="mailto:help@x.test">help@x.test</a></p>
      <table><tr><td>A</td><td>B</td></tr></table><script>alert(1)</script></body></html>`;
    expect(htmlToText(html)).toBe(
      [
        "Your order",
        "",
        "Thanks, Ada & co.",
        "See your order (https://x.test/o?a=1&b=2).",
        "",
        "- Tea",
        "- Cake",
        "",
        "https://x.test/plain help@x.test",
        "",
        "A B",
      ].join("\n"),
    );
  });
});

describe("maskLiquid", () => {
  it("blanks Liquid but keeps line numbers", () => {
    const src = "<a>{{ x }}</a>\n{% if y %}\n<b>{% endif %}";
    const masked = maskLiquid(src);
    expect(masked.split("\n")).toHaveLength(3);
    expect(masked).not.toContain("{");
    expect(masked.length).toBe(src.length);
  });
});
