import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallDetails, mergeCall } from "../src/channels/twilio/call-details.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

// Queue wait times, recorded on call entries for reports: Twilio reports the time a caller
// spent in an <Enqueue> queue (QueueTime) to the queue's action URL, with how they left it.

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "voice-auth-token" };
const INBOX_NUMBER = "+14155550100";
const CUSTOMER = "+14155550123";

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
let db: Db;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
  db = app.ctx.database.db;
});
afterAll(async () => app?.close());

async function voiceInbox(workspaceId: string) {
  return createInbox(db, workspaceId, {
    kind: "voice",
    name: "Hotline",
    address: INBOX_NUMBER,
    config: ACCOUNT,
  });
}

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
  return rows<{ call: CallDetails }>(
    db,
    sql`SELECT metadata->'call' AS call FROM conversation_messages
        WHERE workspace_id = ${workspaceId} AND kind = 'call' ORDER BY created_at, id`,
  );
}

describe("queue wait recorded from Twilio's <Enqueue> action", () => {
  it("adds QueueTime to the wait, sets answeredAt when bridged, and answers TwiML", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const inbox = await voiceInbox(t.workspace.id);
    const url = `${PUBLIC_URL}/webhooks/twilio/${t.workspace.id}/voice/${inbox.id}`;
    const base = fixture("voice-enqueue-action");
    const inbound = { ...base, Direction: "inbound", From: CUSTOMER, To: INBOX_NUMBER, Called: INBOX_NUMBER };
    // the caller is answered by Twilio (in-progress), waits 42 s in the queue, then an agent takes the call
    expect((await callback(url, { ...withoutQueue(inbound), CallStatus: "ringing" })).statusCode).toBe(204);
    expect((await callback(url, { ...withoutQueue(inbound), CallStatus: "in-progress" })).statusCode).toBe(
      204,
    );
    const action = await callback(url, inbound);
    expect(action.statusCode).toBe(200);
    expect(action.headers["content-type"]).toContain("text/xml");
    expect(action.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const [entry] = await callEntries(t.workspace.id);
    const call = entry?.call;
    const pickedUp = Date.parse(call?.statuses.find((s) => s.status === "in-progress")?.at ?? "");
    expect(call).toMatchObject({ queueTimeSeconds: 42, queueResult: "bridged" });
    expect(call?.answeredAt).toBe(new Date(pickedUp + 42_000).toISOString());
    expect(call?.waitSeconds).toBe(Math.round((pickedUp - Date.parse(call?.queuedAt ?? "")) / 1000) + 42);

    // a caller who hung up in the queue waited, but was never answered
    const abandoned = {
      ...inbound,
      CallSid: `CA${randomBytes(16).toString("hex")}`,
      QueueResult: "hangup",
      QueueTime: "300",
    };
    expect((await callback(url, abandoned)).statusCode).toBe(200);
    const [, second] = await callEntries(t.workspace.id);
    expect(second?.call).toMatchObject({ queueResult: "hangup", waitSeconds: 300 });
    expect(second?.call.answeredAt).toBeUndefined();
  });
});

function withoutQueue(form: Form): Form {
  const { QueueResult: _r, QueueSid: _s, QueueTime: _t, ...rest } = form;
  return rest;
}

describe("the wait fields of a call", () => {
  const base = { CallSid: "CA1", AccountSid: "AC1", Direction: "inbound", From: "+1", To: "+2" };
  const at = (s: number) => new Date(Date.UTC(2025, 0, 14, 9, 0, s));

  it("an inbound call with only its final callback: started at its end less its length, waited its QueueTime", () => {
    const call = mergeCall(
      undefined,
      { ...base, CallStatus: "completed", CallDuration: 100, QueueTime: 30 },
      at(50),
    );
    expect(call.queuedAt).toBe(new Date(at(50).getTime() - 100_000).toISOString());
    expect(call).toMatchObject({
      waitSeconds: 30,
      answeredAt: new Date(at(50).getTime() - 70_000).toISOString(),
    });
  });

  it("no answer and no queue: no wait is made up", () => {
    const rang = mergeCall(undefined, { ...base, CallStatus: "ringing" }, at(0));
    const missed = mergeCall(rang, { ...base, CallStatus: "no-answer" }, at(20));
    expect(missed.answeredAt).toBeUndefined();
    expect(missed.waitSeconds).toBeUndefined();
    expect(missed.queuedAt).toBe(at(0).toISOString());
  });

  it("a recording's news changes neither the status nor the times", () => {
    const answered = mergeCall(
      mergeCall(undefined, { ...base, CallStatus: "ringing" }, at(0)),
      { ...base, CallStatus: "in-progress" },
      at(8),
    );
    const recorded = mergeCall(
      answered,
      { ...base, RecordingSid: "RE1", RecordingUrl: "https://x.example/RE1" },
      at(90),
    );
    expect(recorded).toMatchObject({
      status: "in-progress",
      waitSeconds: 8,
      answeredAt: at(8).toISOString(),
    });
    expect(recorded.statuses).toHaveLength(2);
  });
});
