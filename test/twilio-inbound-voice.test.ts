import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeCall } from "../src/channels/twilio/voice.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "voice-auth-token" };

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
});
afterAll(async () => app?.close());
const db = async () => (await testDatabase()).db;

async function voiceInbox(t: TestWorkspace) {
  const inbox = await createInbox(await db(), t.workspace.id, {
    kind: "voice",
    name: "Hotline",
    address: "+14155550100",
    config: ACCOUNT,
  });
  return `/webhooks/twilio/${t.workspace.id}/voice/${inbox.id}`;
}

function post(path: string, form: Form, signature?: string) {
  const url = `${PUBLIC_URL}${path}`;
  const signed = signature ?? twilioSignature(ACCOUNT.authToken, url, form);
  if (signature === undefined)
    expect(twilio.validateRequest(ACCOUNT.authToken, signed, url, form)).toBe(true);
  return app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signed },
    payload: new URLSearchParams(form).toString(),
  });
}

async function calls(workspaceId: string) {
  return rows<{
    kind: string;
    direction: string;
    text: string;
    customerId: string;
    metadata: { call: Record<string, unknown> };
  }>(
    await db(),
    sql`SELECT m.kind, m.direction, m.text, c.customer_id::text AS "customerId", m.metadata
        FROM conversation_messages m JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        WHERE m.workspace_id = ${workspaceId}`,
  );
}

describe("Twilio Voice status callbacks", () => {
  it("files one call message per CallSid in the caller's conversation, updated as statuses arrive", async () => {
    const t = await createTestWorkspace();
    const known = await identify(await db(), t.workspace.id, {
      identifiers: [{ kind: "phone", value: "+14155550123" }],
      reason: "test",
      defaultCountry: "US",
    });
    const path = await voiceInbox(t);
    expect((await post(path, fixture("voice-ringing"))).statusCode).toBe(204);
    let [call, ...more] = await calls(t.workspace.id);
    expect(more).toHaveLength(0);
    expect(call).toMatchObject({ kind: "call", direction: "inbound", customerId: known.customerId });
    expect(call?.metadata.call).toMatchObject({ status: "ringing", from: "+14155550123" });

    expect((await post(path, fixture("voice-completed"))).statusCode).toBe(204);
    expect((await post(path, fixture("voice-transcription"))).statusCode).toBe(204);
    // a late, out-of-order "ringing" does not move the call back
    expect((await post(path, fixture("voice-ringing"))).statusCode).toBe(204);
    [call, ...more] = await calls(t.workspace.id);
    expect(more).toHaveLength(0);
    expect(call?.metadata.call).toMatchObject({
      callSid: fixture("voice-ringing").CallSid,
      status: "completed",
      durationSeconds: 458,
      queueTimeSeconds: 95,
      recordingUrl: fixture("voice-completed").RecordingUrl,
      recordingDurationSeconds: 361,
      transcription: fixture("voice-transcription").TranscriptionText,
    });
    expect(call?.text).toBe(
      `Call from the customer: completed, 7m 38s\n${fixture("voice-transcription").TranscriptionText}`,
    );
  });

  it("files an outbound (click-to-call) call under the number called", async () => {
    const t = await createTestWorkspace();
    const path = await voiceInbox(t);
    const form = {
      ...fixture("voice-ringing"),
      Direction: "outbound-api",
      From: "+14155550100",
      To: "+14155551234",
    };
    expect((await post(path, form)).statusCode).toBe(204);
    const [call] = await calls(t.workspace.id);
    expect(call).toMatchObject({ kind: "call", direction: "outbound" });
    expect(call?.text).toBe("Call to the customer: ringing");
  });

  it("refuses a bad signature, another account or a number not the inbox's, storing nothing", async () => {
    const t = await createTestWorkspace();
    const path = await voiceInbox(t);
    const form = fixture("voice-ringing");
    expect((await post(path, form, "Zm9yZ2Vk")).statusCode).toBe(403);
    expect((await post(path, { ...form, AccountSid: `AC${"0".repeat(32)}` })).statusCode).toBe(403);
    expect((await post(path, { ...form, To: "+14155559999" })).statusCode).toBe(403);
    expect((await post(path, { ...form, CallStatus: "exploded" })).statusCode).toBe(400);
    expect(await calls(t.workspace.id)).toEqual([]);
  });

  it("is 404 for a messaging inbox", async () => {
    const t = await createTestWorkspace();
    const inbox = await createInbox(await db(), t.workspace.id, {
      kind: "sms",
      name: "Texts",
      address: "+14155550100",
      config: ACCOUNT,
    });
    const res = await post(`/webhooks/twilio/${t.workspace.id}/voice/${inbox.id}`, fixture("voice-ringing"));
    expect(res.statusCode).toBe(404);
  });
});

describe("mergeCall", () => {
  it("keeps the furthest status and every field any callback brought", () => {
    const at = new Date("2025-01-14T09:00:00Z");
    const base = { CallSid: "CA1", AccountSid: "AC1", Direction: "inbound", From: "+1", To: "+2" };
    const done = mergeCall(undefined, { ...base, CallStatus: "completed", CallDuration: 60 }, at);
    const late = mergeCall(done, { ...base, CallStatus: "ringing", QueueTime: 12 }, at);
    expect(late).toMatchObject({ status: "completed", durationSeconds: 60, queueTimeSeconds: 12 });
    expect(late.statuses.map((s) => s.status)).toEqual(["completed", "ringing"]);
  });
});
