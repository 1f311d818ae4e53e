import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery, setProvider } from "../src/delivery/deliveries.ts";
import { retryPacing, runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports } from "../src/delivery/providers/smtp.ts";
import { sendMessage } from "../src/delivery/send.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";
import { startFakeTwilio } from "./support/fake-twilio.ts";

let db: Db;
let app: App;
let smtp: FakeSmtp;
const publicUrl = "http://rapport.test";

beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp({ RAPPORT_PUBLIC_URL: publicUrl });
  smtp = await startFakeSmtp();
});
afterAll(async () => {
  closeSmtpTransports();
  await smtp.close();
  await app.close();
});

async function emailWorkspace() {
  const ws = (await createTestWorkspace()).workspace.id;
  await getMessagingSettings(db, ws);
  await setProvider(db, ws, "email", "smtp", {
    host: smtp.host,
    port: smtp.port,
    secure: false,
    from: "Melodia <hello@melodia.example>",
    timeoutMs: 5000,
  });
  const { customerId } = await identify(db, ws, {
    identifiers: [{ kind: "email", value: "ada@example.com" }],
    traits: { first_name: "Ada" },
    reason: "test",
    defaultCountry: "FR",
  });
  return { ws, customerId };
}

describe("email one-click unsubscribe, end to end", () => {
  it("sends, the header's one-click POST unsubscribes at once, and the next marketing send is skipped", async () => {
    const { ws, customerId } = await emailWorkspace();
    const news = { customerId, topic: "news", source: "journey" };
    const first = await sendMessage(
      db,
      ws,
      {
        ...news,
        content: { subject: "This week", text: "Hi {{ customer.traits.first_name }}" },
        idempotencyKey: "n1",
      },
      { publicUrl },
    );
    expect(first.decision).toBe("send");
    expect(await runDelivery(db, ws, first.deliveryId)).toBe("sent");
    const [mail] = await smtp.waitFor(1);
    // read the headers as they came over the wire, as a mail client does
    const header = (name: string) =>
      new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im")
        .exec(mail?.rawHeaders ?? "")?.[1]
        ?.replace(/\r?\n[ \t]+/g, " ");
    expect(header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    const url = /^<(http:\/\/rapport\.test\/unsubscribe\/[^>]+)>$/.exec(
      header("List-Unsubscribe") ?? "",
    )?.[1];
    expect(url).toBeDefined();

    // as a mail client does it: a POST with exactly this body, no cookies
    const path = new URL(url ?? "").pathname;
    const wrong = await app.inject({
      method: "POST",
      url: path,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=Yes",
    });
    expect(wrong.statusCode).toBe(400);
    const again = await sendMessage(
      db,
      ws,
      { ...news, content: { subject: "Still subscribed", text: "x" }, idempotencyKey: "n2" },
      { publicUrl },
    );
    expect(again.decision).toBe("send");

    const res = await app.inject({
      method: "POST",
      url: path,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(res.statusCode).toBe(200);
    const after = await sendMessage(
      db,
      ws,
      { ...news, content: { subject: "Next week", text: "x" }, idempotencyKey: "n3" },
      { publicUrl },
    );
    expect(after).toMatchObject({ decision: "skip", reason: "no_consent" });
    // a transactional message still goes
    const receipt = await sendMessage(
      db,
      ws,
      {
        customerId,
        topic: "account",
        content: { subject: "Your receipt", text: "Thanks" },
        idempotencyKey: "r1",
        source: "api",
      },
      { publicUrl },
    );
    expect(receipt.decision).toBe("send");
  });

  it("records a template that fails to render as failed, with the reason, and sends nothing", async () => {
    const { ws, customerId } = await emailWorkspace();
    const before = smtp.received.length;
    const err = await sendMessage(
      db,
      ws,
      {
        customerId,
        topic: "account",
        content: { subject: "x", text: "{{ 'a' | no_such_filter }}" },
        idempotencyKey: "bad",
        source: "api",
      },
      { publicUrl },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "delivery.template_render_failed" });
    const id = (err as { details?: { deliveryId?: string } }).details?.deliveryId ?? "";
    const d = await getDelivery(db, ws, id);
    expect(d.state).toBe("failed");
    expect(d.error?.reason).toMatch(/no_such_filter/);
    expect(smtp.received.length).toBe(before);
  });
});

describe("provider failures", () => {
  it("retries a 500 and sends once; a 4xx with an invalid number fails for good and suppresses it", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await getMessagingSettings(db, ws);
    const account = { accountSid: `AC${"ab".repeat(16)}`, authToken: "token" };
    const twilio = await startFakeTwilio(account);
    await setProvider(db, ws, "sms", "twilio", { ...account, from: "+15005550006", baseUrl: twilio.url });
    const { customerId } = await identify(db, ws, {
      identifiers: [{ kind: "phone", value: "+33612345678" }],
      reason: "test",
      defaultCountry: "FR",
    });
    const pacing = { ...retryPacing };
    retryPacing.baseMs = 1;
    try {
      twilio.answerNext({ status: 500, body: { message: "boom" } });
      const out = await sendMessage(
        db,
        ws,
        {
          customerId,
          topic: "account",
          channel: "sms",
          content: { text: "Code 1234" },
          idempotencyKey: "s1",
          source: "api",
        },
        { publicUrl },
      );
      expect(await runDelivery(db, ws, out.deliveryId)).toBe("queued");
      expect(await runDelivery(db, ws, out.deliveryId)).toBe("sent");
      expect(twilio.messages).toHaveLength(1);
      const d = await getDelivery(db, ws, out.deliveryId);
      expect(d.attempts).toBe(2);
      expect(d.events.map((e) => e.state)).toEqual(["queued", "sending", "queued", "sending", "sent"]);

      twilio.answerNext({
        status: 400,
        body: { code: 21211, message: "The 'To' number is not a valid phone number." },
      });
      const bad = await sendMessage(
        db,
        ws,
        {
          customerId,
          topic: "account",
          channel: "sms",
          content: { text: "Code 5678" },
          idempotencyKey: "s2",
          source: "api",
        },
        { publicUrl },
      );
      expect(await runDelivery(db, ws, bad.deliveryId)).toBe("failed");
      const next = await sendMessage(
        db,
        ws,
        {
          customerId,
          topic: "account",
          channel: "sms",
          content: { text: "Code 9999" },
          idempotencyKey: "s3",
          source: "api",
        },
        { publicUrl },
      );
      expect(next).toMatchObject({ decision: "skip", reason: "suppressed" });
    } finally {
      Object.assign(retryPacing, pacing);
      await twilio.close();
    }
  });
});
