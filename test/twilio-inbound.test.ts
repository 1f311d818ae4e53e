import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, type Inbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { findByIdentifier } from "../src/profiles/customers.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "inbox-auth-token-1" };
const POOL = "MG9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
});
afterAll(async () => app?.close());
const db = async () => (await testDatabase()).db;

async function twilioInbox(t: TestWorkspace, kind: "sms" | "whatsapp" = "sms", config: object = {}) {
  return createInbox(await db(), t.workspace.id, {
    kind,
    name: `Twilio ${kind}`,
    address: "+14155550100",
    config: { ...ACCOUNT, ...config },
  });
}

const inboxPath = (t: TestWorkspace, inbox: Inbox, query = "") =>
  `/webhooks/twilio/${t.workspace.id}/inbox/${inbox.id}${query}`;

/** Signs like Twilio, and checks the official helper agrees before the test relies on it. */
function sign(url: string, form: Form, token = ACCOUNT.authToken): string {
  const signature = twilioSignature(token, url, form);
  expect(twilio.validateRequest(token, signature, url, form)).toBe(true);
  return signature;
}

function post(path: string, form: Form, signature: string | undefined, headers: Record<string, string> = {}) {
  return app.inject({
    method: "POST",
    url: path,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature !== undefined ? { "x-twilio-signature": signature } : {}),
      ...headers,
    },
    payload: new URLSearchParams(form).toString(),
  });
}

const postSigned = (path: string, form: Form) => post(path, form, sign(`${PUBLIC_URL}${path}`, form));

async function messagesOf(workspaceId: string) {
  return rows<{
    conversationId: string;
    text: string;
    providerMessageId: string;
    metadata: Record<string, unknown>;
  }>(
    await db(),
    sql`SELECT conversation_id::text AS "conversationId", text, provider_message_id AS "providerMessageId", metadata
        FROM conversation_messages WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

async function conversationsOf(workspaceId: string) {
  return rows<{ id: string; customerId: string; contactAddress: string; channel: string }>(
    await db(),
    sql`SELECT id::text AS id, customer_id::text AS "customerId", contact_address AS "contactAddress", channel
        FROM conversations WHERE workspace_id = ${workspaceId}`,
  );
}

describe("Twilio inbound SMS", () => {
  it("resolves the sender to the existing customer, opens one conversation, threads the next message, stores a replay once", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const known = await identify(await db(), t.workspace.id, {
      identifiers: [
        { kind: "email", value: "pat@example.com" },
        { kind: "phone", value: "(415) 555-0123" },
      ],
      reason: "test",
      defaultCountry: "US",
    });
    const path = inboxPath(t, inbox);
    const first = fixture("sms");
    const res = await postSigned(path, first);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/xml/);
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');

    const [conversation, ...others] = await conversationsOf(t.workspace.id);
    expect(others).toHaveLength(0);
    expect(conversation).toMatchObject({
      customerId: known.customerId,
      contactAddress: "+14155550123",
      channel: "sms",
    });
    const customer = await findByIdentifier(await db(), t.workspace.id, "phone", "+14155550123", "US");
    expect(customer?.id).toBe(known.customerId);

    const second = { ...first, MessageSid: "SM00000000000000000000000000000002", Body: "Any news?" };
    expect((await postSigned(path, second)).statusCode).toBe(200);
    // Twilio retries a post it thinks failed: same MessageSid, same answer, stored once
    const replay = await postSigned(path, first);
    expect(replay.statusCode).toBe(200);
    expect(replay.body).toBe(res.body);

    const messages = await messagesOf(t.workspace.id);
    expect(messages.map((m) => m.providerMessageId)).toEqual([first.MessageSid, second.MessageSid]);
    expect(new Set(messages.map((m) => m.conversationId))).toEqual(new Set([conversation?.id]));
    expect(messages[0]).toMatchObject({
      text: first.Body,
      metadata: { channel: "sms", from: "+14155550123", to: "+14155550100", numMedia: 0 },
    });
    expect(await conversationsOf(t.workspace.id)).toHaveLength(1);
  });

  it("takes a WhatsApp message: whatsapp: prefixes stripped, WaId and ProfileName kept", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t, "whatsapp");
    const form = fixture("whatsapp");
    const res = await postSigned(inboxPath(t, inbox), form);
    expect(res.statusCode).toBe(200);
    const customer = await findByIdentifier(await db(), t.workspace.id, "whatsapp_id", "+33612345678", "US");
    expect(customer?.traits).toMatchObject({ name: "Amélie Durand" });
    expect(customer?.identities.map((i) => `${i.kind}:${i.value}`).sort()).toEqual([
      "phone:+33612345678",
      "whatsapp_id:+33612345678",
    ]);
    const [conversation] = await conversationsOf(t.workspace.id);
    expect(conversation).toMatchObject({
      customerId: customer?.id,
      contactAddress: "+33612345678",
      channel: "whatsapp",
    });
    const [message] = await messagesOf(t.workspace.id);
    expect(message).toMatchObject({
      text: form.Body,
      metadata: {
        channel: "whatsapp",
        waId: "33612345678",
        profileName: "Amélie Durand",
        to: "whatsapp:+14155550100",
      },
    });
  });

  it("takes a message to any number of the inbox's Messaging Service pool", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t, "sms", { messagingServiceSid: POOL });
    const form = fixture("messaging-service");
    expect(form.To).not.toBe(inbox.address);
    const res = await postSigned(inboxPath(t, inbox), form);
    expect(res.statusCode).toBe(200);
    expect(await messagesOf(t.workspace.id)).toMatchObject([
      { providerMessageId: form.MessageSid, metadata: { messagingServiceSid: POOL, to: "+12025550147" } },
    ]);
  });

  it("verifies a signature over a URL with a query string", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const res = await postSigned(inboxPath(t, inbox, "?source=console&x=1"), fixture("sms"));
    expect(res.statusCode).toBe(200);
    expect(await messagesOf(t.workspace.id)).toHaveLength(1);
  });
});

describe("Twilio inbound: bad input stores nothing", () => {
  async function refused(
    t: TestWorkspace,
    res: { statusCode: number; json(): unknown },
    status: number,
    code: string,
  ) {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error: { code } });
    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
    expect(await conversationsOf(t.workspace.id)).toHaveLength(0);
    expect(await findByIdentifier(await db(), t.workspace.id, "phone", "+14155550123", "US")).toBeUndefined();
  }

  it("refuses a missing, forged or other-token signature with 403", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const path = inboxPath(t, inbox);
    const form = fixture("sms");
    await refused(t, await post(path, form, undefined), 403, "twilio.forbidden");
    await refused(t, await post(path, form, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="), 403, "twilio.forbidden");
    await refused(
      t,
      await post(path, form, sign(`${PUBLIC_URL}${path}`, form, "another-token")),
      403,
      "twilio.forbidden",
    );
    // a field changed after signing
    const signature = sign(`${PUBLIC_URL}${path}`, form);
    await refused(t, await post(path, { ...form, Body: "tampered" }, signature), 403, "twilio.forbidden");
  });

  it("refuses a signature over the Host header's URL instead of the public URL", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const path = inboxPath(t, inbox);
    const form = fixture("sms");
    const hostUrl = `http://internal-upstream:3000${path}`;
    const res = await post(path, form, sign(hostUrl, form), { host: "internal-upstream:3000" });
    await refused(t, res, 403, "twilio.forbidden");
  });

  it("refuses another account's post, signed with this inbox's token, with 403", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const form = { ...fixture("sms"), AccountSid: `AC${"0".repeat(32)}` };
    await refused(t, await postSigned(inboxPath(t, inbox), form), 403, "twilio.forbidden");
  });

  it("refuses a number that is neither the inbox's nor of its pool", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t, "sms", { messagingServiceSid: POOL });
    const form = { ...fixture("messaging-service"), MessagingServiceSid: `MG${"1".repeat(32)}` };
    await refused(t, await postSigned(inboxPath(t, inbox), form), 403, "twilio.number_forbidden");
  });

  it("answers 404 for an unknown inbox, another workspace's inbox, or a non-Twilio inbox", async () => {
    const t = await createTestWorkspace();
    const other = await createTestWorkspace();
    const theirs = await twilioInbox(other);
    const form = fixture("sms");
    const foreign = `/webhooks/twilio/${t.workspace.id}/inbox/${theirs.id}`;
    await refused(t, await postSigned(foreign, form), 404, "conversations.inbox_not_found");
    expect(await messagesOf(other.workspace.id)).toHaveLength(0);
    const unknown = `/webhooks/twilio/${t.workspace.id}/inbox/0190aaaa-0000-7000-8000-000000000000`;
    await refused(t, await postSigned(unknown, form), 404, "conversations.inbox_not_found");
    const email = await createInbox(await db(), t.workspace.id, {
      kind: "email",
      name: "Support",
      config: ACCOUNT,
    });
    await refused(t, await postSigned(inboxPath(t, email), form), 404, "twilio.inbox_not_found");
  });

  it("refuses a malformed From or a post without MessageSid with 400", async () => {
    const t = await createTestWorkspace();
    const inbox = await twilioInbox(t);
    const path = inboxPath(t, inbox);
    await refused(
      t,
      await postSigned(path, { ...fixture("sms"), From: "not-a-number" }),
      400,
      "twilio.invalid_from",
    );
    await refused(
      t,
      await postSigned(path, { ...fixture("sms"), From: "+1234" }),
      400,
      "twilio.invalid_from",
    );
    const { MessageSid: _m, ...noSid } = fixture("sms");
    await refused(t, await postSigned(path, noSid), 400, "twilio.invalid_message");
  });

  it("refuses everything when the inbox's Twilio settings are incomplete", async () => {
    const t = await createTestWorkspace();
    // settings no longer whole (an inbox's saved settings can only be broken outside the API:
    // the API refuses incomplete ones)
    await expect(twilioInbox(t, "sms", { authToken: "" })).rejects.toMatchObject({
      code: "conversations.invalid_inbox",
    });
    const inbox = await twilioInbox(t, "sms");
    await (await db()).execute(
      sql`UPDATE inboxes SET config = config || '{"authToken": ""}'::jsonb WHERE id = ${inbox.id}`,
    );
    await refused(t, await postSigned(inboxPath(t, inbox), fixture("sms")), 403, "twilio.forbidden");
  });
});
