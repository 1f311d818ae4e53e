import { readFileSync } from "node:fs";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { testDatabase } from "../src/db/testing.ts";
import { setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp as makeApp } from "./support/factories.ts";
import { startFakeTwilio } from "./support/fake-twilio.ts";

// End to end on Twilio's channels: a signed webhook in, the customer found, an agent's reply
// through the REST API, and the reply as Twilio's Messages API receives it.

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "inbox-auth-token-1" };
type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
let fake: Awaited<ReturnType<typeof startFakeTwilio>>;
beforeAll(async () => {
  app = await makeApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
  fake = await startFakeTwilio(ACCOUNT);
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

async function setUp(kind: "sms" | "whatsapp") {
  const t = await createTestWorkspace();
  const { db } = await testDatabase();
  await getMessagingSettings(db, t.workspace.id);
  // the workspace sends from another number: a reply must still leave from the inbox's
  await setProvider(db, t.workspace.id, kind, "twilio", {
    ...ACCOUNT,
    from: "+14155550199",
    baseUrl: fake.url,
  });
  const inbox = await createInbox(db, t.workspace.id, {
    kind,
    name: `Support ${kind}`,
    address: "+14155550100",
    config: ACCOUNT,
  });
  const path = `/webhooks/twilio/${t.workspace.id}/inbox/${inbox.id}`;
  const postSigned = (form: Form) => {
    const signature = twilioSignature(ACCOUNT.authToken, `${PUBLIC_URL}${path}`, form);
    expect(twilio.validateRequest(ACCOUNT.authToken, signature, `${PUBLIC_URL}${path}`, form)).toBe(true);
    return app.inject({
      method: "POST",
      url: path,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      payload: new URLSearchParams(form).toString(),
    });
  };
  const api = (method: "GET" | "POST", url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${t.secretKey}` },
      ...(payload ? { payload } : {}),
    });
  return { t, db, inbox, postSigned, api };
}

/** The agent's reply through REST, sent by the delivery engine; answers what Twilio received. */
async function replyAndSend(s: Awaited<ReturnType<typeof setUp>>, conversationId: string, text: string) {
  const res = await s.api("POST", `/api/v1/conversations/${conversationId}/messages`, { text });
  expect(res.statusCode).toBe(201);
  const deliveryId: string = res.json().delivery.deliveryId;
  expect(await runDelivery(s.db, s.t.workspace.id, deliveryId)).toBe("sent");
  const sent = fake.messages.at(-1);
  return sent?.form ?? {};
}

describe("Twilio channels end to end", () => {
  it("SMS: the sender is the customer known by phone; the reply goes back from the number they wrote to", async () => {
    const s = await setUp("sms");
    const known = await identify(s.db, s.t.workspace.id, {
      identifiers: [
        { kind: "email", value: "pat@example.com" },
        { kind: "phone", value: "(415) 555-0123" },
      ],
      reason: "test",
      defaultCountry: "US",
    });
    expect((await s.postSigned(fixture("sms"))).statusCode).toBe(200);
    const list = (await s.api("GET", `/api/v1/customers/${known.customerId}/conversations`)).json();
    expect(list.data).toHaveLength(1);
    const conversation = list.data[0];
    expect(conversation).toMatchObject({ channel: "sms", contactAddress: "+14155550123" });
    const form = await replyAndSend(s, conversation.id, "Hi Pat, your refund left today.");
    expect(form).toMatchObject({
      To: "+14155550123",
      From: "+14155550100",
      Body: "Hi Pat, your refund left today.",
    });
  });

  it("WhatsApp: a new customer from their WhatsApp profile; the reply goes to whatsapp: from the inbox's number", async () => {
    const s = await setUp("whatsapp");
    expect((await s.postSigned(fixture("whatsapp"))).statusCode).toBe(200);
    const listed = (await s.api("GET", "/api/v1/conversations?status=open")).json();
    const conversation = listed.data[0];
    expect(conversation).toMatchObject({ channel: "whatsapp", contactAddress: "+33612345678" });
    const form = await replyAndSend(s, conversation.id, "Bonjour Amélie, nous regardons tout de suite.");
    expect(form).toMatchObject({
      To: "whatsapp:+33612345678",
      From: "whatsapp:+14155550100",
      Body: "Bonjour Amélie, nous regardons tout de suite.",
    });
  });

  it("refuses a reply to another workspace's conversation (404) and sends nothing", async () => {
    const a = await setUp("sms");
    expect((await a.postSigned(fixture("sms"))).statusCode).toBe(200);
    const conversation = (await a.api("GET", "/api/v1/conversations")).json().data[0];
    const b = await setUp("sms");
    const before = fake.messages.length;
    const res = await b.api("POST", `/api/v1/conversations/${conversation.id}/messages`, { text: "Hello" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("conversations.conversation_not_found");
    expect(fake.messages.length).toBe(before);
  });
});
