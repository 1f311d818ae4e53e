import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
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

async function agent() {
  const s = await signedIn(app, "agent");
  await getMessagingSettings(db, s.workspace.id);
  const call = (method: "GET" | "POST" | "PATCH", url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${s.secretKey}` },
      ...(payload ? { payload } : {}),
    });
  const asAgent = (method: "GET" | "POST" | "PATCH", url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  return { ...s, ws: s.workspace.id, call, asAgent };
}

describe("conversations", () => {
  it("takes in API-channel messages: one customer, one conversation, a replay stored once", async () => {
    const a = await agent();
    const known = await identify(db, a.ws, {
      identifiers: [{ kind: "email", value: "ada@example.com" }],
      reason: "test",
      defaultCountry: "FR",
    });
    const inbox = (await a.call("POST", "/api/v1/inboxes", { kind: "api", name: "App chat" })).json();
    const post = (text: string, messageId: string) =>
      a.call("POST", `/api/v1/inboxes/${inbox.id}/messages`, {
        from: { email: "Ada@example.com" },
        text,
        messageId,
        source: { pageUrl: "https://melodia.example/help" },
      });
    const first = await post("My playlist vanished", "m1");
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ customerId: known.customerId, opened: true, duplicate: false });
    const second = await post("It had 200 songs", "m2");
    expect(second.json()).toMatchObject({ conversationId: first.json().conversationId, opened: false });
    const replay = await post("My playlist vanished", "m1");
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ duplicate: true, messageId: first.json().messageId });

    const list = (await a.asAgent("GET", `/api/v1/customers/${known.customerId}/conversations`)).json();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({
      number: 1,
      status: "open",
      source: { pageUrl: "https://melodia.example/help" },
    });
    const messages = (
      await a.asAgent("GET", `/api/v1/conversations/${first.json().conversationId}/messages`)
    ).json();
    expect(messages.data.map((m: { text: string }) => m.text)).toEqual([
      "My playlist vanished",
      "It had 200 songs",
    ]);
  });

  it("replies on the channel and to the address the customer wrote from, through the delivery ledger", async () => {
    const a = await agent();
    const inbox = await createInbox(db, a.ws, { kind: "sms", name: "Support line", address: "+15005550006" });
    // the customer has two numbers; the reply goes to the one they wrote from
    await identify(db, a.ws, {
      identifiers: [
        { kind: "phone", value: "+33611111111" },
        { kind: "email", value: "leo@example.fr" },
      ],
      reason: "test",
      defaultCountry: "FR",
    });
    const inbound = await receiveInbound(
      db,
      a.ws,
      {
        inboxId: inbox.id,
        from: [
          { kind: "phone", value: "+33622222222" },
          { kind: "email", value: "leo@example.fr" },
        ],
        contactAddress: "+33622222222",
        providerMessageId: "SM1",
        text: "Where is my refund?",
      },
      { defaultCountry: "FR" },
    );
    const res = await a.asAgent("POST", `/api/v1/conversations/${inbound.conversationId}/messages`, {
      text: "It left yesterday, you will see it within 3 days.",
    });
    expect(res.statusCode).toBe(201);
    const { delivery } = res.json();
    expect(delivery).toMatchObject({ decision: "send", channel: "sms" });
    expect(await runDelivery(db, a.ws, delivery.deliveryId)).toBe("delivered");
    const d = await getDelivery(db, a.ws, delivery.deliveryId);
    expect(d).toMatchObject({
      address: "+33622222222",
      topic: "support",
      kind: "transactional",
      source: "agent",
    });

    const note = await a.asAgent("POST", `/api/v1/conversations/${inbound.conversationId}/messages`, {
      text: "Refund #8812 checked with billing",
      private: true,
    });
    expect(note.json().delivery).toBeUndefined();
    const messages = (
      await a.asAgent("GET", `/api/v1/conversations/${inbound.conversationId}/messages`)
    ).json();
    expect(
      messages.data.map((m: { kind: string; direction: string; deliveryState: string | null }) => [
        m.kind,
        m.direction,
        m.deliveryState,
      ]),
    ).toEqual([
      ["message", "inbound", null],
      ["message", "outbound", "delivered"],
      ["note", "outbound", null],
    ]);
    const c = (await a.asAgent("GET", `/api/v1/conversations/${inbound.conversationId}`)).json();
    expect(c.firstResponseAt).not.toBeNull();
  });

  it("snoozes, resolves and reopens on the customer's next message; refuses bad changes", async () => {
    const a = await agent();
    const inbox = await createInbox(db, a.ws, { kind: "api", name: "Form" });
    const msg = (id: string) =>
      receiveInbound(
        db,
        a.ws,
        {
          inboxId: inbox.id,
          from: [{ kind: "email", value: "mo@example.com" }],
          text: "hi",
          providerMessageId: id,
        },
        { defaultCountry: "FR" },
      );
    const { conversationId } = await msg("f1");
    const url = `/api/v1/conversations/${conversationId}`;
    expect((await a.asAgent("PATCH", url, { status: "snoozed" })).statusCode).toBe(400);
    expect(
      (await a.asAgent("PATCH", url, { status: "snoozed", snoozedUntil: "2001-01-01T00:00:00Z" })).statusCode,
    ).toBe(400);
    expect((await a.asAgent("PATCH", url, { priority: "whenever" })).statusCode).toBe(400);
    expect(
      (await a.asAgent("PATCH", url, { assigneeId: "01900000-0000-7000-8000-000000000000" })).statusCode,
    ).toBe(404);
    const resolved = (
      await a.asAgent("PATCH", url, { status: "resolved", labels: ["refund", "refund"], priority: "high" })
    ).json();
    expect(resolved).toMatchObject({ status: "resolved", labels: ["refund"], priority: "high" });
    expect(resolved.resolvedAt).not.toBeNull();
    const again = await msg("f2");
    expect(again.conversationId).toBe(conversationId);
    expect((await a.asAgent("GET", url)).json().status).toBe("open");
    const assigned = (await a.asAgent("PATCH", url, { assigneeId: a.user.id })).json();
    expect(assigned.assigneeId).toBe(a.user.id);
  });

  it("keeps workspaces apart and lets conversations follow a merged customer", async () => {
    const a = await agent();
    const b = await agent();
    const inbox = await createInbox(db, b.ws, { kind: "api", name: "B's source" });
    const inB = await receiveInbound(
      db,
      b.ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: "x@example.com" }], text: "hello B" },
      { defaultCountry: "FR" },
    );
    expect((await a.asAgent("GET", `/api/v1/conversations/${inB.conversationId}`)).statusCode).toBe(404);
    expect(
      (await a.asAgent("POST", `/api/v1/conversations/${inB.conversationId}/messages`, { text: "hi" }))
        .statusCode,
    ).toBe(404);
    expect((await a.asAgent("GET", `/api/v1/inboxes`)).json().data).toEqual([]);
    expect((await a.asAgent("POST", "/api/v1/inboxes", { kind: "api", name: "nope" })).statusCode).toBe(403);

    const other = await identify(db, b.ws, {
      identifiers: [{ kind: "user_id", value: "u-x" }],
      reason: "test",
      defaultCountry: "FR",
    });
    await mergeCustomers(db, b.ws, { survivorId: other.customerId, mergedId: inB.customerId, actor: "test" });
    const [row] = await rows<{ customerId: string }>(
      db,
      sql`SELECT customer_id::text AS "customerId" FROM conversations WHERE workspace_id = ${b.ws} AND id = ${inB.conversationId}`,
    );
    expect(row?.customerId).toBe(other.customerId);
  });

  it("stores a message carrying NUL characters, which PostgreSQL refuses, without them", async () => {
    const a = await agent();
    const inbox = await createInbox(db, a.ws, { kind: "api", name: "nul" });
    const r = await receiveInbound(
      db,
      a.ws,
      {
        inboxId: inbox.id,
        from: [{ kind: "email", value: "nul@example.com" }],
        text: "a\u0000b",
        subject: "s\u0000t",
        metadata: { note: "x\u0000y", list: ["\u0000z"] },
      },
      { defaultCountry: "FR" },
    );
    const [m] = await rows<{ text: string; metadata: Record<string, unknown> }>(
      db,
      sql`SELECT text, metadata FROM conversation_messages WHERE workspace_id = ${a.ws} AND id = ${r.messageId}`,
    );
    expect(m).toEqual({ text: "ab", metadata: { note: "xy", list: ["z"] } });
    expect((await a.asAgent("GET", `/api/v1/conversations/${r.conversationId}`)).json().subject).toBe("st");
  });
});
