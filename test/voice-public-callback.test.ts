import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallDetails } from "../src/channels/twilio/call-details.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { PUBLIC_CALLS_PER_WINDOW } from "../src/http/routes/voice.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { startRecordingServer } from "./support/fake-provider-server.ts";
import { twilioError } from "./support/fake-twilio.ts";

// The customer-facing button: a customer leaves their number on a brand's page and is called
// back. Public, so: off unless the inbox enables it, numbers checked (country, line type),
// and limited per client address, per number and per inbox.

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "voice-auth-token" };
const INBOX_NUMBER = "+14155550100";
const TEAM_NUMBER = "+14155550111";

let app: App;
let db: Db;
let fake: Awaited<ReturnType<typeof startRecordingServer>>;

beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
  db = app.ctx.database.db;
  fake = await startRecordingServer((req) => {
    if (!req.path.endsWith("/Calls.json"))
      return twilioError(404, 20404, "The requested resource was not found");
    return {
      status: 201,
      body: {
        sid: `CA${randomBytes(16).toString("hex")}`,
        status: "queued",
        to: req.form.To,
        from: req.form.From,
      },
    };
  });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

async function setup(clickToCall: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const t = await createTestWorkspace(app.ctx.database);
  const inbox = await createInbox(db, t.workspace.id, {
    kind: "voice",
    name: "Hotline",
    address: INBOX_NUMBER,
    config: { ...ACCOUNT, baseUrl: fake.url, greeting: "Hello from Melodia & co.", clickToCall, ...extra },
  });
  return { ws: t.workspace.id, inboxId: inbox.id };
}

// each test asks from its own address: the per-address limit is the app's, across tests
let nextIp = 1;
function ask(body: Record<string, unknown>, opts: { ip?: string; form?: boolean } = {}) {
  const remoteAddress = opts.ip ?? `198.51.100.${nextIp++}`;
  return app.inject({
    method: "POST",
    url: "/api/v1/public/calls",
    remoteAddress,
    ...(opts.form
      ? {
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: "https://www.melodia.example",
          },
          payload: new URLSearchParams(
            Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
          ).toString(),
        }
      : { headers: { origin: "https://www.melodia.example" }, payload: body }),
  });
}

async function callEntries(ws: string) {
  return rows<{ conversationId: string; direction: string; call: CallDetails }>(
    db,
    sql`SELECT conversation_id::text AS "conversationId", direction, metadata->'call' AS call
        FROM conversation_messages WHERE workspace_id = ${ws} AND kind = 'call' ORDER BY created_at, id`,
  );
}

describe("a customer's callback request", () => {
  it("calls the customer back and connects them to the team's number, the page recorded as the source", async () => {
    const { ws, inboxId } = await setup({ enabled: true, connectTo: TEAM_NUMBER });
    const before = fake.requests.length;
    const res = await ask(
      {
        workspaceId: ws,
        inboxId,
        phone: "(415) 555-0123",
        name: "Ada",
        pageUrl: "https://www.melodia.example/help?utm_source=letter",
      },
      { form: true },
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ status: "queued" });
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    const [request] = fake.requests.slice(before);
    expect(request?.form).toMatchObject({ To: "+14155550123", From: INBOX_NUMBER });
    expect(request?.form.Twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello from Melodia &amp; co.</Say>` +
        `<Dial callerId="${INBOX_NUMBER}" timeout="30"><Number>${TEAM_NUMBER}</Number></Dial></Response>`,
    );
    const [entry] = await callEntries(ws);
    expect(entry).toMatchObject({ direction: "outbound" });
    expect(entry?.call).toMatchObject({ requestedBy: "customer", to: "+14155550123", status: "queued" });
    const [conversation] = await rows<{ source: Record<string, unknown>; status: string; name: string }>(
      db,
      sql`SELECT c.source, c.status, cu.traits->>'name' AS name FROM conversations c
          JOIN customers cu ON cu.workspace_id = c.workspace_id AND cu.id = c.customer_id
          WHERE c.workspace_id = ${ws} AND c.id = ${entry?.conversationId}`,
    );
    expect(conversation).toEqual({
      source: { pageUrl: "https://www.melodia.example/help?utm_source=letter" },
      status: "open",
      name: "Ada",
    });
  });

  it("puts the customer in the inbox's queue; the <Enqueue> action records the wait and a resolved conversation reopens", async () => {
    const { ws, inboxId } = await setup({ enabled: true, queue: "support" });
    const first = await ask({ workspaceId: ws, inboxId, phone: "+14155550124" });
    expect(first.statusCode).toBe(201);
    const [request] = fake.requests.slice(-1);
    const statusUrl = String(request?.form.StatusCallback);
    expect(request?.form.Twiml).toContain(`<Enqueue action="${statusUrl}" method="POST">support</Enqueue>`);
    const [entry] = await callEntries(ws);
    const form = {
      AccountSid: ACCOUNT.accountSid,
      CallSid: entry?.call.callSid ?? "",
      Direction: "outbound-api",
      From: INBOX_NUMBER,
      To: "+14155550124",
    };
    const post = (f: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: statusUrl.slice(PUBLIC_URL.length),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilioSignature(ACCOUNT.authToken, statusUrl, f),
        },
        payload: new URLSearchParams(f).toString(),
      });
    expect(
      twilio.validateRequest(
        ACCOUNT.authToken,
        twilioSignature(ACCOUNT.authToken, statusUrl, form),
        statusUrl,
        form,
      ),
    ).toBe(true);
    expect((await post({ ...form, CallStatus: "in-progress" })).statusCode).toBe(204);
    const action = await post({
      ...form,
      CallStatus: "in-progress",
      QueueResult: "bridged",
      QueueTime: "65",
    });
    expect(action.statusCode).toBe(200);
    const [after] = await callEntries(ws);
    const call = after?.call;
    const pickedUp = Date.parse(call?.statuses.find((s) => s.status === "in-progress")?.at ?? "");
    // the customer's wait: from their request to picking up, then the queue
    expect(call?.waitSeconds).toBe(Math.round((pickedUp - Date.parse(call?.queuedAt ?? "")) / 1000) + 65);
    expect(call?.answeredAt).toBe(new Date(pickedUp + 65_000).toISOString());

    await db.execute(sql`UPDATE conversations SET status = 'resolved', resolved_at = now()
      WHERE workspace_id = ${ws} AND id = ${after?.conversationId}`);
    await db.execute(sql`UPDATE conversation_messages SET created_at = now() - interval '11 minutes'
      WHERE workspace_id = ${ws} AND kind = 'call'`);
    expect((await ask({ workspaceId: ws, inboxId, phone: "+14155550124" })).statusCode).toBe(201);
    const entries = await callEntries(ws);
    expect(entries).toHaveLength(2);
    expect(entries[1]?.conversationId).toBe(after?.conversationId);
    const [reopened] = await rows<{ status: string }>(
      db,
      sql`SELECT status FROM conversations WHERE workspace_id = ${ws} AND id = ${after?.conversationId}`,
    );
    expect(reopened?.status).toBe("open");
  });

  it("is not available unless the voice inbox enables it (the same 404 for unknown ids)", async () => {
    const off = await setup({ enabled: false, connectTo: TEAM_NUMBER });
    const none = await setup({}, { clickToCall: undefined });
    const sms = await createTestWorkspace(app.ctx.database);
    const smsInbox = await createInbox(db, sms.workspace.id, {
      kind: "sms",
      name: "Texts",
      address: INBOX_NUMBER,
      config: { ...ACCOUNT, clickToCall: { enabled: true, connectTo: TEAM_NUMBER } },
    });
    const before = fake.requests.length;
    for (const target of [
      { workspaceId: off.ws, inboxId: off.inboxId },
      { workspaceId: none.ws, inboxId: none.inboxId },
      { workspaceId: sms.workspace.id, inboxId: smsInbox.id },
      { workspaceId: uuidv7(), inboxId: off.inboxId },
      { workspaceId: off.ws, inboxId: uuidv7() },
    ]) {
      const res = await ask({ ...target, phone: "+14155550125" });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        error: { code: "twilio.click_to_call_not_found", message: "Click-to-call is not available here." },
      });
    }
    expect(fake.requests.length).toBe(before);
    expect(await callEntries(off.ws)).toEqual([]);
  });

  it("refuses numbers it must not call: invalid, abroad, premium-rate, toll-free, the brand's own", async () => {
    const { ws, inboxId } = await setup({ enabled: true, connectTo: TEAM_NUMBER });
    const before = fake.requests.length;
    const cases: Array<[unknown, number, string]> = [
      ["12345", 400, "twilio.invalid_callback_number"],
      ["not a number at all", 400, "twilio.invalid_callback_number"],
      ["+33612345678", 400, "twilio.callback_number_refused"],
      ["+19005550123", 400, "twilio.callback_number_refused"],
      ["+18005550123", 400, "twilio.callback_number_refused"],
      [INBOX_NUMBER, 400, "twilio.callback_number_refused"],
      [TEAM_NUMBER, 400, "twilio.callback_number_refused"],
      ["", 400, "request.invalid"],
      [4155550123, 400, "request.invalid"],
    ];
    for (const [phone, status, code] of cases) {
      const res = await ask({ workspaceId: ws, inboxId, phone });
      expect(res.statusCode, String(phone)).toBe(status);
      expect(res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    expect((await ask({ workspaceId: "nope", inboxId, phone: "+14155550126" })).statusCode).toBe(400);
    expect(fake.requests.length).toBe(before);
    expect(await callEntries(ws)).toEqual([]);
    // a country the inbox lists is called
    const fr = await setup({ enabled: true, connectTo: TEAM_NUMBER, countries: ["FR", "US"] });
    expect((await ask({ workspaceId: fr.ws, inboxId: fr.inboxId, phone: "+33612345678" })).statusCode).toBe(
      201,
    );
  });

  it("limits each number, each inbox and each client address", async () => {
    const { ws, inboxId } = await setup({ enabled: true, connectTo: TEAM_NUMBER, perNumberPerDay: 2 });
    const ip = "203.0.113.10";
    expect((await ask({ workspaceId: ws, inboxId, phone: "+14155550127" }, { ip })).statusCode).toBe(201);
    const again = await ask({ workspaceId: ws, inboxId, phone: "+14155550127" }, { ip: "203.0.113.11" });
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({
      error: { code: "request.rate_limited", message: "A call to this number is already on its way." },
    });
    // ten minutes later the number may ask again, up to its daily limit
    await db.execute(sql`UPDATE conversation_messages SET created_at = now() - interval '11 minutes'
      WHERE workspace_id = ${ws} AND kind = 'call'`);
    expect(
      (await ask({ workspaceId: ws, inboxId, phone: "+14155550127" }, { ip: "203.0.113.12" })).statusCode,
    ).toBe(201);
    await db.execute(sql`UPDATE conversation_messages SET created_at = now() - interval '11 minutes'
      WHERE workspace_id = ${ws} AND kind = 'call'`);
    const third = await ask({ workspaceId: ws, inboxId, phone: "+14155550127" }, { ip: "203.0.113.13" });
    expect(third.statusCode).toBe(429);
    expect(third.json<{ error: { message: string } }>().error.message).toContain("several callbacks today");
    expect(await callEntries(ws)).toHaveLength(2);

    // the inbox's hourly limit holds whoever asks
    const busy = await setup({ enabled: true, connectTo: TEAM_NUMBER, perInboxPerHour: 1 });
    expect(
      (await ask({ workspaceId: busy.ws, inboxId: busy.inboxId, phone: "+14155550128" })).statusCode,
    ).toBe(201);
    const full = await ask({ workspaceId: busy.ws, inboxId: busy.inboxId, phone: "+14155550129" });
    expect(full.statusCode).toBe(429);

    // one address: a handful of requests per ten minutes, whatever they were
    const spammer = "203.0.113.99";
    for (let i = 0; i < PUBLIC_CALLS_PER_WINDOW; i++) {
      expect((await ask({ workspaceId: ws, inboxId, phone: "12345" }, { ip: spammer })).statusCode).toBe(400);
    }
    const blocked = await ask({ workspaceId: ws, inboxId, phone: "+14155550130" }, { ip: spammer });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: { code: "request.rate_limited" } });
    expect(blocked.headers["access-control-allow-origin"]).toBe("*");
  });

  it("answers a browser's preflight from any origin", async () => {
    const res = await app.inject({
      method: "OPTIONS",
      url: "/api/v1/public/calls",
      headers: { origin: "https://www.melodia.example", "access-control-request-method": "POST" },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "POST, OPTIONS",
      "access-control-allow-headers": "content-type",
    });
  });
});
