import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createEndpoint } from "../src/delivery/webhooks/endpoints.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => {
  await app.close();
});

type Method = "GET" | "POST" | "PATCH";

async function agent() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  await getMessagingSettings(db, ws);
  const call = (method: Method, url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  const inbox = await createInbox(db, ws, { kind: "api", name: "Form" });
  const message = (email: string, text: string, threadKey?: string) =>
    receiveInbound(
      db,
      ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: email }], text, threadKey },
      { defaultCountry: "FR" },
    );
  return { ...s, ws, call, inbox, message };
}

describe("the conversation model", () => {
  it("lists one customer's conversations across every channel, newest activity first", async () => {
    const a = await agent();
    const sms = await createInbox(db, a.ws, { kind: "sms", name: "Line", address: "+15005550006" });
    const mail = await createInbox(db, a.ws, {
      kind: "email",
      name: "Mail",
      address: "help@melodia.example",
    });
    const chat = await createInbox(db, a.ws, { kind: "chat", name: "Widget" });
    const ada = await identify(db, a.ws, {
      identifiers: [
        { kind: "phone", value: "+33611111111" },
        { kind: "email", value: "ada@example.com" },
        { kind: "user_id", value: "u-ada" },
      ],
      reason: "test",
      defaultCountry: "FR",
    });
    const at = (i: number) => new Date(Date.UTC(2020, 0, 1, 10, i));
    const got = [];
    for (const [i, [inboxId, from]] of (
      [
        [sms.id, { kind: "phone", value: "+33611111111" }],
        [mail.id, { kind: "email", value: "ada@example.com" }],
        [chat.id, { kind: "user_id", value: "u-ada" }],
        [a.inbox.id, { kind: "email", value: "ada@example.com" }],
      ] as const
    ).entries()) {
      got.push(
        await receiveInbound(
          db,
          a.ws,
          { inboxId, from: [from], text: `msg ${i}`, receivedAt: at(i) },
          { defaultCountry: "FR" },
        ),
      );
    }
    expect(new Set(got.map((g) => g.customerId))).toEqual(new Set([ada.customerId]));
    await a.message("someone-else@example.com", "not Ada's");

    const page1 = await a.call("GET", `/api/v1/customers/${ada.customerId}/conversations?limit=3`);
    expect(page1.statusCode).toBe(200);
    const page2 = await a.call(
      "GET",
      `/api/v1/customers/${ada.customerId}/conversations?limit=3&cursor=${page1.json().nextCursor}`,
    );
    const all = [...page1.json().data, ...page2.json().data];
    expect(all.map((c: { inboxId: string }) => c.inboxId)).toEqual([a.inbox.id, chat.id, mail.id, sms.id]);
    expect(all.map((c: { channel: string | null }) => c.channel)).toEqual([null, "in_app", "email", "sms"]);
    expect(page2.json().nextCursor).toBeNull();
    // filters still apply
    const open = await a.call("GET", `/api/v1/customers/${ada.customerId}/conversations?status=resolved`);
    expect(open.json().data).toEqual([]);

    // a merged customer's old id lists the survivor's conversations
    const other = await identify(db, a.ws, {
      identifiers: [{ kind: "email", value: "ada.work@example.com" }],
      reason: "test",
      defaultCountry: "FR",
    });
    await mergeCustomers(db, a.ws, { survivorId: other.customerId, mergedId: ada.customerId, actor: "test" });
    const byOld = await a.call("GET", `/api/v1/customers/${ada.customerId}/conversations`);
    expect(byOld.json().data).toHaveLength(4);

    const bad = await a.call("GET", "/api/v1/customers/nope/conversations");
    expect(bad.statusCode).toBe(400);
    const unknown = await a.call(
      "GET",
      "/api/v1/customers/01900000-0000-7000-8000-000000000000/conversations",
    );
    expect(unknown.statusCode).toBe(404);
  });

  it("numbers conversations per workspace", async () => {
    const a = await agent();
    const b = await agent();
    const numbers = async (x: typeof a) => {
      const one = await x.message("one@example.com", "1");
      const two = await x.message("two@example.com", "2");
      const list = (await x.call("GET", "/api/v1/conversations")).json().data;
      return [one, two].map((c) => list.find((l: { id: string }) => l.id === c.conversationId)?.number);
    };
    expect(await numbers(a)).toEqual([1, 2]);
    expect(await numbers(b)).toEqual([1, 2]);
  });

  it("records resolution and first response: resolve sets, reopening clears, a note does not answer", async () => {
    const a = await agent();
    const { conversationId } = await a.message("mo@example.com", "hi");
    const url = `/api/v1/conversations/${conversationId}`;
    const state = async () => (await a.call("GET", url)).json();

    const note = await a.call("POST", `${url}/messages`, { text: "checking with billing", private: true });
    expect(note.statusCode).toBe(201);
    expect((await state()).firstResponseAt).toBeNull();
    await a.call("POST", `${url}/messages`, { text: "We are on it" });
    const answered = (await state()).firstResponseAt;
    expect(answered).not.toBeNull();
    await a.call("POST", `${url}/messages`, { text: "Fixed" });
    expect((await state()).firstResponseAt).toBe(answered);

    const resolved = (await a.call("PATCH", url, { status: "resolved" })).json();
    expect(resolved.resolvedAt).not.toBeNull();
    // resolving again (a label change with the status) keeps the time it was resolved
    const again = (await a.call("PATCH", url, { status: "resolved", labels: ["billing"] })).json();
    expect(again.resolvedAt).toBe(resolved.resolvedAt);
    const reopened = (await a.call("PATCH", url, { status: "open" })).json();
    expect(reopened).toMatchObject({ status: "open", resolvedAt: null });
    await a.call("PATCH", url, { status: "resolved" });
    const snoozed = (
      await a.call("PATCH", url, {
        status: "snoozed",
        snoozedUntil: new Date(Date.now() + 60_000).toISOString(),
      })
    ).json();
    expect(snoozed).toMatchObject({ status: "snoozed", resolvedAt: null });
  });

  it("tells webhooks of conversations created and updated and messages created, but not of notes", async () => {
    const a = await agent();
    await createEndpoint(
      db,
      a.ws,
      { url: "https://hooks.melodia.example/rapport" },
      { kind: "system" },
      { resolve: async () => [{ address: "93.184.216.34", family: 4 }] },
    );
    const first = await a.message("lea@example.com", "My card was charged twice");
    await a.message("lea@example.com", "Any news?");
    const url = `/api/v1/conversations/${first.conversationId}`;
    await a.call("POST", `${url}/messages`, { text: "@nobody internal", private: true });
    await a.call("POST", `${url}/messages`, { text: "Refunded" });
    await a.call("PATCH", url, { status: "resolved", priority: "high" });
    const events = await rows<{ type: string; data: Record<string, unknown> }>(
      db,
      sql`SELECT event_type AS type, payload->'data' AS data FROM webhook_messages
          WHERE workspace_id = ${a.ws} ORDER BY id`,
    );
    expect(events.map((e) => [e.type, e.data.conversationId, e.data.direction ?? null])).toEqual([
      ["conversation.created", first.conversationId, null],
      ["message.created", first.conversationId, "inbound"],
      ["message.created", first.conversationId, "inbound"],
      ["message.created", first.conversationId, "outbound"],
      ["conversation.updated", first.conversationId, null],
    ]);
    expect(events.at(-1)?.data).toEqual({
      conversationId: first.conversationId,
      changes: ["status", "priority"],
    });
    expect(events.some((e) => e.data.text === "@nobody internal")).toBe(false);
  });

  it("gives another workspace's agent 404 on every conversation route", async () => {
    const a = await agent();
    const b = await agent();
    const theirs = await b.message("x@example.com", "hello B");
    const theirsToo = await b.message("x@example.com", "again", "other-thread");
    // a note by B's program, naming B's agent: a mention that exists, in B's workspace
    const note = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${theirs.conversationId}/messages`,
      headers: { authorization: `Bearer ${b.secretKey}` },
      payload: { text: `@[B](user:${b.user.id}) yours`, private: true },
    });
    expect((await b.call("GET", "/api/v1/mentions")).json().unreadCount).toBe(1);
    const mine = await a.message("y@example.com", "hello A");
    const id = theirs.conversationId;
    const calls: Array<[Method, string, Record<string, unknown>?]> = [
      ["GET", `/api/v1/conversations/${id}`],
      ["PATCH", `/api/v1/conversations/${id}`, { priority: "high" }],
      ["GET", `/api/v1/conversations/${id}/messages`],
      ["POST", `/api/v1/conversations/${id}/messages`, { text: "hi" }],
      ["POST", `/api/v1/conversations/${id}/messages`, { text: "note", private: true }],
      ["POST", `/api/v1/conversations/${id}/merge`, { into: theirsToo.conversationId }],
      ["POST", `/api/v1/conversations/${mine.conversationId}/merge`, { into: id }],
      ["GET", `/api/v1/customers/${theirs.customerId}/conversations`],
      ["POST", `/api/v1/mentions/${note.json().messageId}/read`],
    ];
    for (const [method, url, payload] of calls) {
      const res = await a.call(method, url, payload);
      expect([method, url, res.statusCode]).toEqual([method, url, 404]);
    }
    // nothing of B's changed
    const [row] = await rows<{ priority: string; n: number; merged: string | null }>(
      db,
      sql`SELECT priority, merged_into_id::text AS merged,
            (SELECT count(*)::int FROM conversation_messages m WHERE m.workspace_id = c.workspace_id
              AND m.conversation_id = c.id) AS n
          FROM conversations c WHERE workspace_id = ${b.ws} AND id = ${id}`,
    );
    expect(row).toEqual({ priority: "none", n: 2, merged: null });
    expect((await b.call("GET", "/api/v1/mentions")).json().unreadCount).toBe(1);
    const list = (await a.call("GET", "/api/v1/conversations")).json().data;
    expect(list.map((c: { id: string }) => c.id)).toEqual([mine.conversationId]);
  });

  it("describes the merge and mention routes in the OpenAPI document", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/conversations/{id}/merge",
        "/api/v1/mentions",
        "/api/v1/mentions/{messageId}/read",
        "/api/v1/customers/{id}/conversations",
      ]),
    );
  });
});
