import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../src/db/testing.ts";
import { closeSmtpTransports, createSmtpProvider, type SmtpConfig } from "../src/delivery/providers/smtp.ts";
import type { OutboundMessage } from "../src/delivery/providers/types.ts";
import { chooseVariant, type RenderContext, renderVariant } from "../src/delivery/render.ts";
import type { RenderedContent } from "../src/delivery/tables.ts";
import { createTemplate, getTemplateByKey } from "../src/delivery/templates.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";

let fake: FakeSmtp;
let config: SmtpConfig;

beforeAll(async () => {
  fake = await startFakeSmtp();
  config = { host: fake.host, port: fake.port, from: "Rapport Shop <news@shop.example>", timeoutMs: 5_000 };
});
afterAll(async () => {
  closeSmtpTransports();
  await fake?.close();
});

// as long as the real signed links, so a header that nodemailer folded or encoded would show
const UNSUBSCRIBE = `https://rapport.example/u/${"t".repeat(40)}.${"s".repeat(86)}?c=email&d=0190a0b0-1111-7000-8000-000000000001`;
const HEADERS = {
  "List-Unsubscribe": `<${UNSUBSCRIBE}>`,
  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
};

function message(
  content: RenderedContent,
  idempotencyKey = uuidv7(),
  to = "ada@example.com",
): OutboundMessage {
  return {
    workspaceId: uuidv7(),
    deliveryId: uuidv7(),
    customerId: uuidv7(),
    channel: "email",
    to,
    content,
    idempotencyKey,
  };
}

const simple: RenderedContent = { subject: "Hi", text: "Hello", html: "<p>Hello</p>", headers: HEADERS };
const never = new AbortController().signal;

describe("SMTP provider", () => {
  it("delivers a rendered MJML email: both parts, List-Unsubscribe intact, deterministic Message-ID", async () => {
    const { db } = await testDatabase();
    const { workspace } = await createTestWorkspace();
    await createTemplate(db, workspace.id, {
      key: "shipped",
      name: "Order shipped",
      channel: "email",
      variants: {
        en: {
          subject: "Your order {{ data.order_id }} is on its way, {{ customer.traits.first_name }}",
          body: `<mjml><mj-body><mj-section><mj-column>
            <mj-text>Hello {{ customer.traits.first_name }}, order {{ data.order_id }} has shipped.</mj-text>
            <mj-button href="https://shop.example/track/{{ data.order_id }}">Track my parcel</mj-button>
            <mj-text><a href="{% unsubscribe_url %}">Unsubscribe</a></mj-text>
          </mj-column></mj-section></mj-body></mjml>`,
        },
        fr: { subject: "Commande {{ data.order_id }}", body: "<p>Bonjour</p>" },
      },
    });
    const template = await getTemplateByKey(db, workspace.id, "shipped");
    const { language, variant } = chooseVariant(template.variants, template.defaultLanguage, "en-GB");
    const ctx: RenderContext = {
      customer: { id: uuidv7(), traits: { first_name: "Ada" }, identities: { email: ["ada@example.com"] } },
      data: { order_id: "A-42" },
      topic: { key: "orders", name: "Orders" },
      language,
      links: { preferences: "https://rapport.example/p/x", unsubscribe: UNSUBSCRIBE },
    };
    const content = { ...(await renderVariant(variant, "email", ctx)), headers: HEADERS };
    const provider = createSmtpProvider(config);
    expect(provider.kind).toBe("smtp");

    const key = `shipped-${uuidv7()}`;
    const before = fake.received.length;
    const first = await provider.send(message(content, key), never);
    const expectedId = `<${createHash("sha256").update(key).digest("hex").slice(0, 32)}@shop.example>`;
    expect(first).toEqual({ ok: true, providerMessageId: expectedId, state: "sent" });

    const [mail] = (await fake.waitFor(before + 1)).slice(before);
    if (!mail) throw new Error("no mail");
    expect(mail.envelope).toEqual({ from: "news@shop.example", to: ["ada@example.com"] });
    expect(mail.subject).toBe("Your order A-42 is on its way, Ada");
    expect(mail.messageId).toBe(expectedId);
    expect(mail.html).toContain("Hello Ada, order A-42 has shipped.");
    expect(mail.html).toContain('href="https://shop.example/track/A-42"');
    expect(mail.text).toContain("Hello Ada, order A-42 has shipped.");
    expect(mail.text).toContain("Track my parcel (https://shop.example/track/A-42)");
    expect(mail.text).toContain(`Unsubscribe (${UNSUBSCRIBE})`);
    // byte for byte on the wire: one unfolded line each
    const lines = mail.rawHeaders.split("\r\n");
    expect(lines).toContain(`List-Unsubscribe: <${UNSUBSCRIBE}>`);
    expect(lines).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    // and as a mail client parses them
    expect(mail.headers.get("list")).toMatchObject({ unsubscribe: { url: UNSUBSCRIBE } });
    expect(mail.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line).toBe(
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    );
    expect(mail.rawHeaders).toMatch(/Content-Type: multipart\/alternative/);

    // a retry of the same message is recognisably the same; another message is not
    const again = await provider.send(message(content, key), never);
    expect(again).toEqual(first);
    const other = await provider.send(message(content, `${key}-2`), never);
    expect(other.ok && other.providerMessageId).not.toBe(expectedId);
    const mails = await fake.waitFor(before + 3);
    expect(mails.slice(before).map((m) => m.messageId)).toEqual([
      expectedId,
      expectedId,
      other.ok ? other.providerMessageId : "",
    ]);
  });

  it("classes 451 as retryable and 550 or 554 as final", async () => {
    const provider = createSmtpProvider(config);
    fake.failNext(1, 451, "4.7.1 Greylisted, try again later");
    expect(await provider.send(message(simple), never)).toEqual({
      ok: false,
      retryable: true,
      reason: "451 4.7.1 Greylisted, try again later",
    });
    fake.failNext(1, 550, "5.1.1 Mailbox unavailable");
    expect(await provider.send(message(simple), never)).toEqual({
      ok: false,
      retryable: false,
      reason: "550 5.1.1 Mailbox unavailable",
    });
    fake.failNext(1, 554, "5.7.1 Message rejected as spam", "data");
    expect(await provider.send(message(simple), never)).toMatchObject({
      ok: false,
      retryable: false,
      reason: "554 5.7.1 Message rejected as spam",
    });
    // the pool recovers: the next message goes through
    expect(await provider.send(message(simple), never)).toMatchObject({ ok: true });
  });

  it("gives up on a hanging server within its timeout, as retryable", async () => {
    const provider = createSmtpProvider({ ...config, timeoutMs: 700 });
    fake.hangNext(1);
    const started = Date.now();
    const result = await provider.send(message(simple), never);
    const elapsed = Date.now() - started;
    expect(result).toEqual({ ok: false, retryable: true, reason: "timeout: no answer in 700 ms" });
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(1_500);
  });

  it("treats a refused connection as retryable, and honours the abort signal", async () => {
    const closed = await startFakeSmtp();
    await closed.close();
    const refused = await createSmtpProvider({ ...config, port: closed.port }).send(message(simple), never);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.ok === false && refused.reason).toMatch(/^network: .*ECONNREFUSED/);

    const provider = createSmtpProvider({ ...config, timeoutMs: 10_000 });
    fake.hangNext(1);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(await provider.send(message(simple), controller.signal)).toEqual({
      ok: false,
      retryable: true,
      reason: "aborted: the attempt was cancelled",
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await provider.send(message(simple), controller.signal)).toMatchObject({ retryable: true });
  });

  it("refuses, without sending, what no retry can fix", async () => {
    const provider = createSmtpProvider(config);
    const before = fake.received.length;
    const injected = await provider.send(
      message({ ...simple, headers: { "X-Campaign": "spring\r\nBcc: victim@example.com" } }),
      never,
    );
    expect(injected).toEqual({
      ok: false,
      retryable: false,
      reason: 'header "X-Campaign" contains a line break',
    });
    const forged = await provider.send(message({ ...simple, headers: { From: "ceo@bank.example" } }), never);
    expect(forged).toMatchObject({ retryable: false, reason: 'header "From" is set by the provider' });
    const badTo = await provider.send(message(simple, uuidv7(), "not-an-address"), never);
    expect(badTo).toMatchObject({ retryable: false });
    const noSubject = await provider.send(message({ text: "x" }), never);
    expect(noSubject).toMatchObject({ retryable: false, reason: "an email needs a subject" });
    // let anything that slipped through arrive before counting
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.received.length).toBe(before);
  });
});
