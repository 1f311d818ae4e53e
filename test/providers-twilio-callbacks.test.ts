import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { testDatabase } from "../src/db/testing.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import { deliveryProviders } from "../src/delivery/tables.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

// The route's parsing and signature checks are tested here against a mocked
// recordProviderStatus (what it is called with, and that it is not called at all on a refusal);
// the delivery engine's own tests cover what recording a status does to the ledger.
const recordProviderStatus = vi.hoisted(() => vi.fn(async () => true));
vi.mock("../src/delivery/status.ts", () => ({ recordProviderStatus }));

const PUBLIC_URL = "https://rapport.example.com";
const smsAccount = { accountSid: `AC${"a".repeat(32)}`, authToken: "sms-auth-token" };
const waAccount = { accountSid: `AC${"c".repeat(32)}`, authToken: "whatsapp-auth-token" };
const POOL = `MG${"d".repeat(32)}`;

let app: App;
let t: TestWorkspace;
let bare: TestWorkspace;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL });
  const { db } = await testDatabase();
  t = await createTestWorkspace();
  bare = await createTestWorkspace();
  await db.insert(deliveryProviders).values([
    {
      workspaceId: t.workspace.id,
      channel: "sms",
      kind: "twilio",
      config: { ...smsAccount, from: "+14155550100" },
    },
    // WhatsApp on another account, through a Messaging Service's pool of senders
    {
      workspaceId: t.workspace.id,
      channel: "whatsapp",
      kind: "twilio",
      config: { ...waAccount, messagingServiceSid: POOL },
    },
  ]);
});
afterAll(async () => app?.close());
beforeEach(() => recordProviderStatus.mockClear());

const path = (ws: string, query = "") => `/webhooks/twilio/status/${ws}${query}`;

function callback(
  url: string,
  params: Record<string, string>,
  signature: string | undefined,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: "POST",
    url,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature !== undefined ? { "x-twilio-signature": signature } : {}),
      ...headers,
    },
    payload: new URLSearchParams(params).toString(),
  });
}

const signed = (token: string, url: string, params: Record<string, string>) =>
  twilioSignature(token, `${PUBLIC_URL}${url}`, params);

function statusParams(status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: smsAccount.accountSid,
    ApiVersion: "2010-04-01",
    From: "+14155550100",
    MessageSid: `SM${uuidv7().replace(/-/g, "")}`,
    MessageStatus: status,
    SmsSid: "SM0",
    SmsStatus: status,
    To: "+14155550111",
    ...extra,
  };
}

describe("Twilio status callbacks", () => {
  it("records a validly signed status", async () => {
    const url = path(t.workspace.id);
    const params = statusParams("delivered");
    const res = await callback(url, params, signed(smsAccount.authToken, url, params));
    expect(res.statusCode, res.body).toBe(204);
    expect(recordProviderStatus).toHaveBeenCalledTimes(1);
    expect(recordProviderStatus).toHaveBeenCalledWith(expect.anything(), t.workspace.id, {
      provider: "twilio",
      providerMessageId: params.MessageSid,
      state: "delivered",
      details: { messageStatus: "delivered" },
    });
  });

  it("maps failures with their error code, WhatsApp reads to opens, and ignores in-between statuses", async () => {
    const url = path(t.workspace.id);
    const failed = statusParams("undelivered", { ErrorCode: "30003" });
    expect((await callback(url, failed, signed(smsAccount.authToken, url, failed))).statusCode).toBe(204);
    expect(recordProviderStatus).toHaveBeenLastCalledWith(expect.anything(), t.workspace.id, {
      provider: "twilio",
      providerMessageId: failed.MessageSid,
      state: "failed",
      details: { messageStatus: "undelivered", errorCode: "30003", reason: "twilio_error: 30003" },
    });
    const read = statusParams("read");
    expect((await callback(url, read, signed(smsAccount.authToken, url, read))).statusCode).toBe(204);
    expect(recordProviderStatus).toHaveBeenLastCalledWith(
      expect.anything(),
      t.workspace.id,
      expect.objectContaining({ state: "opened" }),
    );
    const sent = statusParams("sent");
    expect((await callback(url, sent, signed(smsAccount.authToken, url, sent))).statusCode).toBe(204);
    expect(recordProviderStatus).toHaveBeenLastCalledWith(
      expect.anything(),
      t.workspace.id,
      expect.objectContaining({ state: "sent" }),
    );
    recordProviderStatus.mockClear();
    const queued = statusParams("queued");
    expect((await callback(url, queued, signed(smsAccount.authToken, url, queued))).statusCode).toBe(204);
    expect(recordProviderStatus).not.toHaveBeenCalled();
  });

  it("refuses a bad, missing or misplaced signature with 403 and records nothing", async () => {
    const url = path(t.workspace.id);
    const params = statusParams("delivered");
    const good = signed(smsAccount.authToken, url, params);
    const refusals = [
      await callback(url, params, undefined),
      await callback(url, params, ""),
      await callback(url, params, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="),
      await callback(url, params, signed("another-token", url, params)),
      await callback(url, { ...params, MessageStatus: "failed" }, good),
      // a valid signature for one workspace does not open another's door
      await callback(
        path(bare.workspace.id),
        params,
        signed(smsAccount.authToken, path(bare.workspace.id), params),
      ),
    ];
    for (const res of refusals) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error.code).toBe("twilio.forbidden");
    }
    expect(recordProviderStatus).not.toHaveBeenCalled();
  });

  it("checks the public URL Twilio called, not the Host header a proxy passes on", async () => {
    const url = path(t.workspace.id, "?attempt=1");
    const params = statusParams("delivered");
    const behindProxy = {
      host: "10.0.0.7:3000",
      "x-forwarded-host": "rapport.example.com",
      "x-forwarded-proto": "https",
    };
    const ok = await callback(url, params, signed(smsAccount.authToken, url, params), behindProxy);
    expect(ok.statusCode, ok.body).toBe(204);
    expect(recordProviderStatus).toHaveBeenCalledTimes(1);
    // what a server trusting its Host header would have checked
    const hostSigned = twilioSignature(smsAccount.authToken, `http://10.0.0.7:3000${url}`, params);
    expect((await callback(url, params, hostSigned, behindProxy)).statusCode).toBe(403);
    // the query string is part of what is signed
    expect(
      (await callback(path(t.workspace.id), params, signed(smsAccount.authToken, url, params))).statusCode,
    ).toBe(403);
    expect(recordProviderStatus).toHaveBeenCalledTimes(1);
  });

  it("validates a callback for a number of a Messaging Service pool, on its own account", async () => {
    const url = path(t.workspace.id);
    const params = statusParams("read", {
      AccountSid: waAccount.accountSid,
      MessagingServiceSid: POOL,
      From: "whatsapp:+14155550177",
      To: "whatsapp:+14155550111",
      ChannelPrefix: "whatsapp",
    });
    const res = await callback(url, params, signed(waAccount.authToken, url, params));
    expect(res.statusCode, res.body).toBe(204);
    expect(recordProviderStatus).toHaveBeenCalledWith(expect.anything(), t.workspace.id, {
      provider: "twilio",
      providerMessageId: params.MessageSid,
      state: "opened",
      details: { messageStatus: "read" },
    });
  });

  it("explains a signed callback without a message sid, and a malformed workspace id", async () => {
    const url = path(t.workspace.id);
    const params = { AccountSid: smsAccount.accountSid, MessageStatus: "delivered" };
    const res = await callback(url, params, signed(smsAccount.authToken, url, params));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: "twilio.invalid_callback",
      details: { issues: ["MessageSid"] },
    });
    const bad = await callback(path("not-a-uuid"), params, "x");
    expect(bad.statusCode).toBe(400);
    expect(recordProviderStatus).not.toHaveBeenCalled();
  });
});
