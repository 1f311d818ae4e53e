import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { conversationsTopic, receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { recordProviderStatus } from "../src/delivery/status.ts";
import type { App } from "../src/http/app.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

type Update = { type: string; conversationId: string; messageId: string; deliveryState: string };

/** An agent with an SMS conversation, the bus's news of its workspace, and API callers. */
async function smsConversation() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  await getMessagingSettings(db, ws);
  const heard: Update[] = [];
  const stop = app.bus.subscribe(conversationsTopic(ws), (m) => {
    const msg = m as Update;
    if (msg.type === "message.updated") heard.push(msg);
  });
  const inbox = await createInbox(db, ws, { kind: "sms", name: "Support line", address: "+15005550006" });
  const inbound = await receiveInbound(
    db,
    ws,
    {
      inboxId: inbox.id,
      from: [{ kind: "phone", value: "+33622222222" }],
      contactAddress: "+33622222222",
      text: "Where is my parcel?",
    },
    { defaultCountry: "FR" },
  );
  const asAgent = (method: "GET" | "POST", url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  const reply = async (text: string) => {
    const res = await asAgent("POST", `/api/v1/conversations/${inbound.conversationId}/messages`, { text });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { messageId: string; delivery: { deliveryId: string } };
  };
  return { ...s, ws, inbox, conversationId: inbound.conversationId, heard, stop, asAgent, reply };
}

async function until<T>(what: string, check: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Hides the inbox from the engine, so the reply through it fails for good. */
async function hideInbox(ws: string, inboxId: string, hiddenId: string) {
  await db.execute(sql`UPDATE inboxes SET id = ${hiddenId} WHERE workspace_id = ${ws} AND id = ${inboxId}`);
}

describe("live delivery states of replies", () => {
  it("publishes message.updated as the engine sends and as the provider reports", async () => {
    const c = await smsConversation();
    const { messageId, delivery } = await c.reply("It left this morning.");
    expect(await runDelivery(db, c.ws, delivery.deliveryId)).toBe("delivered");
    await until("the delivered news", () => c.heard.find((h) => h.deliveryState === "delivered"));
    expect(c.heard).toEqual([
      {
        type: "message.updated",
        conversationId: c.conversationId,
        messageId,
        deliveryState: "sending",
      },
      {
        type: "message.updated",
        conversationId: c.conversationId,
        messageId,
        deliveryState: "delivered",
      },
    ]);

    // a provider's later news (a bounce after delivery) reaches the screens too
    const [d] = await rows<{ pmid: string }>(
      db,
      sql`SELECT provider_message_id AS pmid FROM deliveries WHERE workspace_id = ${c.ws} AND id = ${delivery.deliveryId}`,
    );
    expect(
      await recordProviderStatus(db, c.ws, {
        provider: "sandbox",
        providerMessageId: d?.pmid ?? "",
        state: "failed",
        details: { reason: "carrier rejected the message" },
      }),
    ).toBe(true);
    const failed = await until("the failed news", () => c.heard.find((h) => h.deliveryState === "failed"));
    expect(failed).toEqual({
      type: "message.updated",
      conversationId: c.conversationId,
      messageId,
      deliveryState: "failed",
    });
    const messages = (await c.asAgent("GET", `/api/v1/conversations/${c.conversationId}/messages`)).json();
    expect(
      messages.data.map(
        (m: { direction: string; deliveryState: string | null; deliveryError: string | null }) => [
          m.direction,
          m.deliveryState,
          m.deliveryError,
        ],
      ),
    ).toEqual([
      ["inbound", null, null],
      ["outbound", "failed", "carrier rejected the message"],
    ]);
    c.stop();
  });

  it("publishes nothing for deliveries that carry no conversation message", async () => {
    const c = await smsConversation();
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/messages",
      headers: { authorization: `Bearer ${c.secretKey}`, "idempotency-key": "news-1" },
      payload: { to: { phone: "+33622222222" }, topic: "account", content: { text: "Your code is 1234" } },
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(await runDelivery(db, c.ws, res.json().deliveryId)).toBe("delivered");
    // a reply sent afterwards is heard: had the first one published, it would be heard before it
    const { messageId, delivery } = await c.reply("Noted.");
    await runDelivery(db, c.ws, delivery.deliveryId);
    await until("the reply's news", () => c.heard.find((h) => h.deliveryState === "delivered"));
    expect(c.heard.map((h) => h.messageId)).toEqual([messageId, messageId]);
    c.stop();
  });
});

describe("POST /api/v1/conversations/:id/messages/:messageId/retry", () => {
  it("sends a failed reply again through the same delivery, and refuses what is not failed", async () => {
    const c = await smsConversation();
    const { messageId, delivery } = await c.reply("Your refund is on its way.");
    const hidden = "0190f000-0000-7000-8000-00000000dead";
    await hideInbox(c.ws, c.inbox.id, hidden);
    expect(await runDelivery(db, c.ws, delivery.deliveryId)).toBe("failed");
    await hideInbox(c.ws, hidden, c.inbox.id);
    const before = (await c.asAgent("GET", `/api/v1/conversations/${c.conversationId}/messages`)).json();
    const failed = before.data.find((m: { id: string }) => m.id === messageId);
    expect(failed).toMatchObject({ deliveryState: "failed", deliveryId: delivery.deliveryId });
    expect(failed.deliveryError).toMatch(/inbox/i);

    const url = `/api/v1/conversations/${c.conversationId}/messages/${messageId}/retry`;
    const retried = await c.asAgent("POST", url);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toEqual({ messageId, deliveryId: delivery.deliveryId, deliveryState: "deferred" });
    await until("the retry's news", () => c.heard.find((h) => h.deliveryState === "deferred"));
    // a second click while it is on its way is refused
    const twice = await c.asAgent("POST", url);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe("conversations.not_retryable");

    expect(await runDelivery(db, c.ws, delivery.deliveryId)).toBe("delivered");
    const [d] = await rows<{ idem: string; attempts: number; n: number }>(
      db,
      sql`SELECT idempotency_key AS idem, attempts,
            (SELECT count(*)::int FROM deliveries x WHERE x.workspace_id = d.workspace_id AND x.source = 'agent') AS n
          FROM deliveries d WHERE workspace_id = ${c.ws} AND id = ${delivery.deliveryId}`,
    );
    expect(d).toEqual({ idem: `reply:${messageId}`, attempts: 2, n: 1 });
    const after = (await c.asAgent("GET", `/api/v1/conversations/${c.conversationId}/messages`)).json();
    expect(after.data.find((m: { id: string }) => m.id === messageId)).toMatchObject({
      deliveryState: "delivered",
      deliveryError: null,
    });
    expect(c.heard.map((h) => h.deliveryState)).toEqual([
      "sending",
      "failed",
      "deferred",
      "sending",
      "delivered",
    ]);

    const delivered = await c.asAgent("POST", url);
    expect(delivered.statusCode).toBe(409);
    expect(delivered.json().error).toMatchObject({
      code: "conversations.not_retryable",
      details: { deliveryState: "delivered" },
    });
    c.stop();
  });

  it("answers 404 for unknown messages and other workspaces, 409 for notes, 400 for bad ids", async () => {
    const c = await smsConversation();
    const other = await smsConversation();
    const { messageId } = await c.reply("Sent.");
    const note = await c.asAgent("POST", `/api/v1/conversations/${c.conversationId}/messages`, {
      text: "Check with billing",
      private: true,
    });
    const base = `/api/v1/conversations/${c.conversationId}/messages`;
    const unknown = await c.asAgent("POST", `${base}/0190f000-0000-7000-8000-000000000001/retry`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("conversations.message_not_found");
    const noteRetry = await c.asAgent("POST", `${base}/${note.json().messageId}/retry`);
    expect(noteRetry.statusCode).toBe(409);
    expect(noteRetry.json().error.code).toBe("conversations.not_retryable");
    // the message of another workspace, through its own conversation id
    const theirs = await other.asAgent(
      "POST",
      `/api/v1/conversations/${c.conversationId}/messages/${messageId}/retry`,
    );
    expect(theirs.statusCode).toBe(404);
    // the message, through a conversation id of the caller's own workspace
    const elsewhere = await other.asAgent(
      "POST",
      `/api/v1/conversations/${other.conversationId}/messages/${messageId}/retry`,
    );
    expect(elsewhere.statusCode).toBe(404);
    const bad = await c.asAgent("POST", `${base}/not-a-uuid/retry`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("conversations.invalid_id");
    c.stop();
    other.stop();
  });
});
