import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import type { Channel } from "../src/consent/tables.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createInAppProvider } from "../src/delivery/providers/in-app.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import { deliveries, deliveryProviders } from "../src/delivery/tables.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

// The same callbacks as test/providers-twilio-callbacks.test.ts, here with the real
// recordProviderStatus: what a callback or a read does to the delivery ledger.

const PUBLIC_URL = "https://rapport.example.com";
const account = { accountSid: `AC${"e".repeat(32)}`, authToken: "ledger-auth-token" };

let app: App;
let t: TestWorkspace;
let customerId: string;
let userId: string;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL });
  const { db } = await testDatabase();
  t = await createTestWorkspace();
  userId = `ledger-${uuidv7()}`;
  ({ customerId } = await identify(db, t.workspace.id, {
    identifiers: [{ kind: "user_id", value: userId }],
    reason: "test",
    defaultCountry: "US",
  }));
  await db.insert(deliveryProviders).values({
    workspaceId: t.workspace.id,
    channel: "sms",
    kind: "twilio",
    config: { ...account, from: "+14155550100" },
  });
});
afterAll(async () => app?.close());

/** A delivery the engine handed to a provider, as the ledger holds it. */
async function sentDelivery(
  channel: Channel,
  provider: string,
  providerMessageId: string,
  state: "sent" | "delivered",
  id = uuidv7(),
) {
  const { db } = await testDatabase();
  await db.insert(deliveries).values({
    workspaceId: t.workspace.id,
    id,
    customerId,
    channel,
    topicId: uuidv7(),
    kind: "transactional",
    address: channel === "sms" ? "+14155550111" : customerId,
    content: { text: "Your order shipped" },
    request: { topic: "orders" },
    idempotencyKey: id,
    requestHash: "test",
    state,
    gate: { action: "send" },
    provider,
    providerMessageId,
    source: "test",
  });
  return id;
}

async function ledger(id: string) {
  const { db } = await testDatabase();
  const [row] = await rows<{ state: string }>(
    db,
    sql`SELECT state FROM deliveries WHERE workspace_id = ${t.workspace.id} AND id = ${id}`,
  );
  const events = await rows<{ state: string; details: Record<string, unknown> }>(
    db,
    sql`SELECT state, details FROM delivery_events WHERE workspace_id = ${t.workspace.id} AND delivery_id = ${id}
        ORDER BY created_at, id`,
  );
  return { state: row?.state, events };
}

function callback(params: Record<string, string>, signature: string) {
  const url = `/webhooks/twilio/status/${t.workspace.id}`;
  return app.inject({
    method: "POST",
    url,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    payload: new URLSearchParams(params).toString(),
  });
}
const sign = (params: Record<string, string>, token = account.authToken) =>
  twilioSignature(token, `${PUBLIC_URL}/webhooks/twilio/status/${t.workspace.id}`, params);

describe("provider news reaches the delivery ledger", () => {
  it("a signed Twilio callback moves the delivery on; a forged one changes nothing", async () => {
    const sid = `SM${"1".repeat(32)}`;
    const id = await sentDelivery("sms", "twilio", sid, "sent");
    const forged = {
      AccountSid: account.accountSid,
      MessageSid: sid,
      MessageStatus: "failed",
      ErrorCode: "30003",
    };
    expect((await callback(forged, sign(forged, "not-the-token"))).statusCode).toBe(403);
    expect(await ledger(id)).toEqual({ state: "sent", events: [] });

    const delivered = { AccountSid: account.accountSid, MessageSid: sid, MessageStatus: "delivered" };
    expect((await callback(delivered, sign(delivered))).statusCode).toBe(204);
    expect(await ledger(id)).toEqual({
      state: "delivered",
      events: [
        {
          state: "delivered",
          details: expect.objectContaining({ messageStatus: "delivered", provider: "twilio" }),
        },
      ],
    });
  });

  it("a failed Twilio status keeps its error code", async () => {
    const sid = `SM${"2".repeat(32)}`;
    const id = await sentDelivery("sms", "twilio", sid, "sent");
    const failed = {
      AccountSid: account.accountSid,
      MessageSid: sid,
      MessageStatus: "undelivered",
      ErrorCode: "30005",
    };
    expect((await callback(failed, sign(failed))).statusCode).toBe(204);
    const after = await ledger(id);
    expect(after.state).toBe("failed");
    expect(after.events).toEqual([
      {
        state: "failed",
        details: expect.objectContaining({ errorCode: "30005", reason: "twilio_error: 30005" }),
      },
    ]);
  });

  it("reading an in-app message records its delivery as opened, once", async () => {
    const { db } = await testDatabase();
    const deliveryId = uuidv7();
    const stored = await createInAppProvider(db).send(
      {
        workspaceId: t.workspace.id,
        deliveryId,
        customerId,
        channel: "in_app",
        to: customerId,
        content: { title: "Hi", text: "Welcome" },
        idempotencyKey: deliveryId,
      },
      new AbortController().signal,
    );
    if (!stored.ok) throw new Error(stored.reason);
    const id = await sentDelivery("in_app", "in_app", stored.providerMessageId, "delivered", deliveryId);
    const headers = {
      authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}`,
      "x-rapport-user-id": userId,
      "x-rapport-user-hash": appUserHash(
        (await getMessagingSettings(db, t.workspace.id)).identitySecret,
        userId,
      ),
    };
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: "POST",
        url: `/api/v1/app/messages/${stored.providerMessageId}/read`,
        headers,
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(await ledger(id)).toEqual({
      state: "opened",
      events: [
        {
          state: "opened",
          details: expect.objectContaining({ source: "message_center", provider: "in_app" }),
        },
      ],
    });
  });
});
