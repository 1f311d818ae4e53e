import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTwilioProvider, TwilioConfig } from "../src/delivery/providers/twilio.ts";
import type { OutboundMessage } from "../src/delivery/providers/types.ts";
import { uuidv7 } from "../src/ids.ts";
import { type FakeTwilio, startFakeTwilio, twilioError } from "./support/fake-twilio.ts";

const account = { accountSid: `AC${"1".repeat(32)}`, authToken: "twilio-token-1" };
const MG = `MG${"2".repeat(32)}`;

let fake: FakeTwilio;
beforeAll(async () => {
  fake = await startFakeTwilio(account);
});
afterAll(async () => fake?.close());

function message(over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    workspaceId: uuidv7(),
    deliveryId: uuidv7(),
    customerId: uuidv7(),
    channel: "sms",
    to: "+14155550111",
    content: { text: "Your order #42 shipped" },
    idempotencyKey: `idem-${uuidv7()}`,
    ...over,
  };
}

const config = (over: Record<string, unknown> = {}) =>
  TwilioConfig.parse({ ...account, from: "+14155550100", baseUrl: fake.url, ...over });
const signal = () => new AbortController().signal;

describe("Twilio-shaped SMS and WhatsApp", () => {
  it("posts the exact SMS form with Basic auth and the idempotency token, and answers the sid", async () => {
    const sms = createTwilioProvider(config(), "sms");
    const m = message({
      content: { text: "Hello there", mediaUrls: ["https://cdn.test/a.png", "https://cdn.test/b.png"] },
      statusCallbackUrl: "https://rapport.test/webhooks/twilio/status/w",
    });
    const before = fake.requests.length;
    const result = await sms.send(m, signal());
    const req = fake.requests[before];
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe(`/2010-04-01/Accounts/${account.accountSid}/Messages.json`);
    expect(req?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString("base64")}`,
    );
    expect(req?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(req?.headers["i-twilio-idempotency-token"]).toBe(m.idempotencyKey);
    expect(req?.form).toEqual({
      To: "+14155550111",
      From: "+14155550100",
      Body: "Hello there",
      MediaUrl: ["https://cdn.test/a.png", "https://cdn.test/b.png"],
      StatusCallback: "https://rapport.test/webhooks/twilio/status/w",
    });
    const sent = fake.messages.at(-1);
    expect(result).toEqual({ ok: true, providerMessageId: sent?.sid, state: "sent" });
    expect(sent?.idempotencyToken).toBe(m.idempotencyKey);
  });

  it("prefixes WhatsApp numbers", async () => {
    const wa = createTwilioProvider(config({ whatsappFrom: "+14155550199" }), "whatsapp");
    const before = fake.requests.length;
    const result = await wa.send(message({ channel: "whatsapp" }), signal());
    expect(result.ok).toBe(true);
    expect(fake.requests[before]?.form).toEqual({
      To: "whatsapp:+14155550111",
      From: "whatsapp:+14155550199",
      Body: "Your order #42 shipped",
    });
  });

  it("sends through a Messaging Service pool", async () => {
    const pool = createTwilioProvider(config({ from: undefined, messagingServiceSid: MG }), "sms");
    const before = fake.requests.length;
    expect((await pool.send(message(), signal())).ok).toBe(true);
    expect(fake.requests[before]?.form).toEqual({
      To: "+14155550111",
      MessagingServiceSid: MG,
      Body: "Your order #42 shipped",
    });
  });

  it("sends one message for one idempotency token, however often it is retried", async () => {
    const sms = createTwilioProvider(config(), "sms");
    const m = message();
    const before = fake.messages.length;
    const first = await sms.send(m, signal());
    const again = await sms.send(m, signal());
    expect(fake.messages.length).toBe(before + 1);
    expect(first.ok && again.ok && first.providerMessageId === again.providerMessageId).toBe(true);
    // a different key is a different message
    expect((await sms.send(message(), signal())).ok).toBe(true);
    expect(fake.messages.length).toBe(before + 2);
  });

  it("answers server errors and throttling as retryable, honouring Retry-After", async () => {
    const sms = createTwilioProvider(config(), "sms");
    fake.answerNext(twilioError(500, 20500, "Internal Server Error"));
    expect(await sms.send(message(), signal())).toMatchObject({ ok: false, retryable: true });
    fake.answerNext({ ...twilioError(429, 20429, "Too Many Requests"), headers: { "retry-after": "7" } });
    expect(await sms.send(message(), signal())).toMatchObject({
      ok: false,
      retryable: true,
      retryAfterMs: 7000,
    });
    fake.answerNext({ status: 503, body: "<html>gateway</html>" });
    expect(await sms.send(message(), signal())).toMatchObject({ ok: false, retryable: true });
  });

  it("answers an invalid number as final, with a reason the engine suppresses on", async () => {
    const sms = createTwilioProvider(config(), "sms");
    fake.answerNext(twilioError(400, 21211, "The 'To' number 5551234 is not a valid phone number."));
    const invalid = await sms.send(message({ to: "+1555" }), signal());
    expect(invalid).toEqual({
      ok: false,
      retryable: false,
      reason: "invalid_number: 21211 The 'To' number 5551234 is not a valid phone number.",
    });
    fake.answerNext(twilioError(400, 21614, "'To' number is not a valid mobile number"));
    expect(await sms.send(message(), signal())).toMatchObject({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(/^invalid_number: 21614 /),
    });
  });

  it("answers other Twilio errors as final with their code and message", async () => {
    const sms = createTwilioProvider(config(), "sms");
    fake.answerNext(twilioError(400, 21610, "Attempt to send to unsubscribed recipient"));
    expect(await sms.send(message(), signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "twilio_error: 21610 Attempt to send to unsubscribed recipient",
    });
    fake.answerNext(twilioError(400, 21408, "Permission to send an SMS has not been enabled for the region"));
    expect(await sms.send(message(), signal())).toMatchObject({
      retryable: false,
      reason: expect.stringMatching(/^twilio_error: 21408 /),
    });
    const wrongToken = createTwilioProvider(config({ authToken: "wrong" }), "sms");
    expect(await wrongToken.send(message(), signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "twilio_error: 20003 Authenticate",
    });
  });

  it("answers a timeout or an unreachable API as retryable", async () => {
    const slow = createTwilioProvider(config({ timeoutMs: 200 }), "sms");
    fake.answerNext({ status: 201, body: { sid: "SMlate" }, delayMs: 1500 });
    expect(await slow.send(message(), signal())).toEqual({
      ok: false,
      retryable: true,
      reason: "timeout: no answer in 200 ms",
    });
    const down = createTwilioProvider(config({ baseUrl: "http://127.0.0.1:9" }), "sms");
    expect(await down.send(message(), signal())).toMatchObject({
      ok: false,
      retryable: true,
      reason: expect.stringMatching(/^network: /),
    });
  });
});
