import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallDetails } from "../src/channels/twilio/call-details.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import {
  type FakeAnswer,
  type RecordedRequest,
  startRecordingServer,
} from "./support/fake-provider-server.ts";
import { twilioError } from "./support/fake-twilio.ts";
import { signedIn } from "./support/sign-in.ts";

// Click-to-call against a local stand-in for Twilio's Calls API: an agent's call, then the
// status callbacks Twilio would post (signed with the inbox's token, checked against the
// official library), folded into the call's one entry in the conversation.

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "voice-auth-token" };
const INBOX_NUMBER = "+14155550100";
const CUSTOMER = "+14155550123";

type Form = Record<string, string>;

let app: App;
let db: Db;
let fake: Awaited<ReturnType<typeof startRecordingServer>>;
/** What the fake answers a call creation; by default a new call. */
let onCreate: (req: RecordedRequest, sid: string) => Promise<FakeAnswer> | FakeAnswer;
const created = (sid: string, req: RecordedRequest): FakeAnswer => ({
  status: 201,
  body: { sid, account_sid: ACCOUNT.accountSid, status: "queued", to: req.form.To, from: req.form.From },
});

beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
  db = app.ctx.database.db;
  const auth = `Basic ${Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString("base64")}`;
  fake = await startRecordingServer((req) => {
    if (req.method !== "POST" || req.path !== `/2010-04-01/Accounts/${ACCOUNT.accountSid}/Calls.json`) {
      return twilioError(404, 20404, "The requested resource was not found");
    }
    if (req.headers.authorization !== auth) return twilioError(401, 20003, "Authenticate");
    return onCreate(req, `CA${randomBytes(16).toString("hex")}`);
  });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

async function voiceInbox(workspaceId: string, extra: Record<string, unknown> = {}) {
  return createInbox(db, workspaceId, {
    kind: "voice",
    name: "Hotline",
    address: INBOX_NUMBER,
    config: { ...ACCOUNT, baseUrl: fake.url, ...extra },
  });
}

/** Posts a Twilio callback to a URL Rapport gave Twilio (the voice webhook naming the entry), signed. */
function callback(url: string, form: Form) {
  const signature = twilioSignature(ACCOUNT.authToken, url, form);
  expect(twilio.validateRequest(ACCOUNT.authToken, signature, url, form)).toBe(true);
  return app.inject({
    method: "POST",
    url: url.slice(PUBLIC_URL.length),
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    payload: new URLSearchParams(form).toString(),
  });
}

async function callEntries(workspaceId: string) {
  return rows<{
    id: string;
    conversationId: string;
    direction: string;
    authorId: string | null;
    text: string;
    providerMessageId: string | null;
    call: CallDetails;
  }>(
    db,
    sql`SELECT id::text AS id, conversation_id::text AS "conversationId", direction, author_id::text AS "authorId",
          text, provider_message_id AS "providerMessageId", metadata->'call' AS call
        FROM conversation_messages WHERE workspace_id = ${workspaceId} AND kind = 'call' ORDER BY created_at, id`,
  );
}

/** A conversation with the customer on a voice inbox (their inbound call). */
async function customerConversation(ws: string, inboxId: string, contact = CUSTOMER) {
  const r = await receiveInbound(
    db,
    ws,
    {
      inboxId,
      from: [{ kind: "phone", value: contact }],
      contactAddress: contact,
      text: "Voicemail: call me back",
    },
    { defaultCountry: "US" },
  );
  return r.conversationId;
}

const placeCall = (conversationId: string, body: Record<string, unknown>, auth: Record<string, unknown>) =>
  app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/calls`,
    payload: body,
    ...auth,
  });

describe("an agent's click-to-call", () => {
  it("calls the customer from the inbox's number, rings the agent, and files the call in this conversation", async () => {
    onCreate = (req, sid) => created(sid, req);
    const agent = await signedIn(app, "agent");
    const ws = agent.workspace.id;
    const inbox = await voiceInbox(ws);
    const conversationId = await customerConversation(ws, inbox.id);
    const before = fake.requests.length;

    const res = await placeCall(conversationId, { agentPhone: "(415) 555-0199" }, { cookies: agent.cookies });
    expect(res.statusCode).toBe(201);
    const placed = res.json<{ messageId: string; callSid: string; status: string; conversationId: string }>();
    expect(placed).toMatchObject({ conversationId, status: "queued" });

    const [request, ...more] = fake.requests.slice(before);
    expect(more).toHaveLength(0);
    const statusUrl = `${PUBLIC_URL}/webhooks/twilio/${ws}/voice/${inbox.id}?entry=${placed.messageId}`;
    expect(request?.form).toMatchObject({
      To: CUSTOMER,
      From: INBOX_NUMBER,
      StatusCallback: statusUrl,
      StatusCallbackMethod: "POST",
      StatusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
      Timeout: "30",
    });
    expect(request?.form.Twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="${INBOX_NUMBER}" timeout="30"><Number>+14155550199</Number></Dial></Response>`,
    );
    expect(request?.headers["i-twilio-idempotency-token"]).toBe(`call:${placed.messageId}`);
    expect(request?.form.Record).toBeUndefined();

    let [entry, ...others] = await callEntries(ws);
    expect(others).toHaveLength(0);
    expect(entry).toMatchObject({
      id: placed.messageId,
      conversationId,
      direction: "outbound",
      authorId: agent.user.id,
      providerMessageId: placed.callSid,
      text: "Call to the customer: queued",
    });
    expect(entry?.call).toMatchObject({
      callSid: placed.callSid,
      requestedBy: "agent",
      agentId: agent.user.id,
      from: INBOX_NUMBER,
      to: CUSTOMER,
      status: "queued",
    });

    // Twilio's callbacks for the call: ringing, answered, completed
    const base = {
      AccountSid: ACCOUNT.accountSid,
      CallSid: placed.callSid,
      Direction: "outbound-api",
      From: INBOX_NUMBER,
      To: CUSTOMER,
      ApiVersion: "2010-04-01",
    };
    for (const form of [
      { ...base, CallStatus: "ringing", CallbackSource: "call-progress-events", SequenceNumber: "1" },
      { ...base, CallStatus: "in-progress", CallbackSource: "call-progress-events", SequenceNumber: "2" },
      { ...base, CallStatus: "completed", CallDuration: "125", Duration: "3", SequenceNumber: "3" },
    ]) {
      expect((await callback(statusUrl, form)).statusCode).toBe(204);
    }
    [entry, ...others] = await callEntries(ws);
    expect(others).toHaveLength(0);
    expect(entry?.text).toBe("Call to the customer: completed, 2m 05s");
    const call = entry?.call;
    expect(call).toMatchObject({ status: "completed", durationSeconds: 125 });
    expect(call?.statuses.map((s) => s.status)).toEqual(["queued", "ringing", "in-progress", "completed"]);
    // the ring time is the wait of a call the agent placed: from the click to the customer's answer
    const pickedUp = call?.statuses.find((s) => s.status === "in-progress")?.at;
    expect(call?.answeredAt).toBe(pickedUp);
    expect(call?.waitSeconds).toBe(
      Math.round((Date.parse(pickedUp ?? "") - Date.parse(call?.queuedAt ?? "")) / 1000),
    );
  });

  it("a status callback that arrives before Twilio's answer still finds the entry (one entry per call)", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await voiceInbox(t.workspace.id, { agentNumber: "+14155550199", record: true });
    const conversationId = await customerConversation(t.workspace.id, inbox.id);
    onCreate = async (req, sid) => {
      const url = String(req.form.StatusCallback);
      const res = await callback(url, {
        AccountSid: ACCOUNT.accountSid,
        CallSid: sid,
        CallStatus: "initiated",
        Direction: "outbound-api",
        From: INBOX_NUMBER,
        To: CUSTOMER,
      });
      expect(res.statusCode).toBe(204);
      return created(sid, req);
    };
    const res = await placeCall(conversationId, {}, { headers: { authorization: `Bearer ${t.secretKey}` } });
    expect(res.statusCode).toBe(201);
    const placed = res.json<{ callSid: string; status: string }>();
    expect(placed.status).toBe("initiated");
    const entries = await callEntries(t.workspace.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ providerMessageId: placed.callSid, authorId: null, conversationId });
    // the inbox records its calls: Twilio is asked to, and posts the recording to the same URL
    const [request] = fake.requests.slice(-1);
    expect(request?.form).toMatchObject({
      Record: "true",
      RecordingStatusCallback: request?.form.StatusCallback,
      RecordingStatusCallbackEvent: "completed",
    });
  });

  it("refuses what it cannot call, clearly, placing nothing and writing nothing", async () => {
    onCreate = (req, sid) => created(sid, req);
    const t = await createTestWorkspace(app.ctx.database);
    const other = await createTestWorkspace(app.ctx.database);
    const auth = { headers: { authorization: `Bearer ${t.secretKey}` } };
    const email = await createInbox(db, t.workspace.id, {
      kind: "email",
      name: "Mail",
      address: "help@brand.example",
    });
    const mailOnly = await receiveInbound(
      db,
      t.workspace.id,
      {
        inboxId: email.id,
        from: [{ kind: "email", value: "nophone@example.com" }],
        contactAddress: "nophone@example.com",
        text: "hi",
      },
      { defaultCountry: "US" },
    );
    const before = fake.requests.length;
    const expectError = async (res: Awaited<ReturnType<typeof placeCall>>, status: number, code: string) => {
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    };
    // no voice inbox in the workspace at all
    await expectError(
      await placeCall(mailOnly.conversationId, { agentPhone: "+14155550199" }, auth),
      400,
      "twilio.no_voice_inbox",
    );
    const inbox = await voiceInbox(t.workspace.id);
    const sms = await createInbox(db, t.workspace.id, {
      kind: "sms",
      name: "Texts",
      address: INBOX_NUMBER,
      config: ACCOUNT,
    });
    const broken = await createInbox(db, t.workspace.id, {
      kind: "voice",
      name: "Broken",
      address: "+14155550101",
      config: {},
    });
    const conversationId = await customerConversation(t.workspace.id, inbox.id);
    const cases: Array<[string, Record<string, unknown>, number, string, typeof auth?]> = [
      [uuidv7(), { agentPhone: "+14155550199" }, 404, "conversations.conversation_not_found"],
      ["not-a-uuid", { agentPhone: "+14155550199" }, 400, "conversations.invalid_id"],
      [mailOnly.conversationId, { agentPhone: "+14155550199" }, 400, "twilio.no_customer_phone"],
      [conversationId, {}, 400, "twilio.no_agent_phone"],
      [conversationId, { agentPhone: "555-01" }, 400, "twilio.invalid_agent_phone"],
      [conversationId, { agentPhone: "+14155550199", inboxId: sms.id }, 400, "twilio.not_a_voice_inbox"],
      [
        conversationId,
        { agentPhone: "+14155550199", inboxId: broken.id },
        400,
        "twilio.voice_inbox_unconfigured",
      ],
      [
        conversationId,
        { agentPhone: "+14155550199", inboxId: uuidv7() },
        404,
        "conversations.inbox_not_found",
      ],
      [conversationId, { agentPhone: 14155550199 }, 400, "request.invalid"],
    ];
    for (const [id, body, status, code] of cases)
      await expectError(await placeCall(id, body, auth), status, code);
    // another workspace's conversation is not found
    await expectError(
      await placeCall(
        conversationId,
        { agentPhone: "+14155550199" },
        { headers: { authorization: `Bearer ${other.secretKey}` } },
      ),
      404,
      "conversations.conversation_not_found",
    );
    expect((await placeCall(conversationId, { agentPhone: "+14155550199" }, {})).statusCode).toBe(401);
    expect(fake.requests.length).toBe(before);
    expect(await callEntries(t.workspace.id)).toEqual([]);
  });

  it("a call Twilio refuses is kept as failed with Twilio's reason, and answered with twilio.call_failed", async () => {
    onCreate = () => twilioError(400, 21215, "Account not authorized to call +14155550123.");
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await voiceInbox(t.workspace.id, { agentNumber: "+14155550199" });
    const conversationId = await customerConversation(t.workspace.id, inbox.id);
    const res = await placeCall(conversationId, {}, { headers: { authorization: `Bearer ${t.secretKey}` } });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ error: { code: "twilio.call_failed" } });
    expect(res.json<{ error: { message: string } }>().error.message).toContain(
      "21215 Account not authorized",
    );
    const [entry] = await callEntries(t.workspace.id);
    expect(entry).toMatchObject({ providerMessageId: null });
    expect(entry?.call).toMatchObject({ status: "failed", error: expect.stringContaining("21215") });
    expect(entry?.text).toContain("Call to the customer: failed (twilio_error: HTTP 400 21215");
  });

  it("another call's callback naming an entry that already has its CallSid takes nothing from it", async () => {
    onCreate = (req, sid) => created(sid, req);
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await voiceInbox(t.workspace.id, { agentNumber: "+14155550199" });
    const conversationId = await customerConversation(t.workspace.id, inbox.id);
    const placed = (
      await placeCall(conversationId, {}, { headers: { authorization: `Bearer ${t.secretKey}` } })
    ).json<{ messageId: string; callSid: string }>();
    // a second call's status naming the first call's entry: the first keeps its CallSid
    const otherSid = `CA${randomBytes(16).toString("hex")}`;
    const url = `${PUBLIC_URL}/webhooks/twilio/${t.workspace.id}/voice/${inbox.id}?entry=${placed.messageId}`;
    const res = await callback(url, {
      AccountSid: ACCOUNT.accountSid,
      CallSid: otherSid,
      CallStatus: "ringing",
      Direction: "outbound-api",
      From: INBOX_NUMBER,
      To: CUSTOMER,
    });
    expect(res.statusCode).toBe(204);
    const entries = await callEntries(t.workspace.id);
    expect(entries.map((e) => e.providerMessageId).sort()).toEqual([placed.callSid, otherSid].sort());
  });
});
