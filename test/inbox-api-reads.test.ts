import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationsTopic, receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { testApp } from "./support/factories.ts";
import { PASSWORD, signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

type Method = "GET" | "POST" | "PATCH";
const ORIGIN = { origin: "http://localhost:3000" };

/** A signed-in agent of a fresh workspace with an API inbox, and callers as the agent and by key. */
async function agent() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  const inbox = await createInbox(db, ws, { kind: "api", name: "App" });
  const as = (cookies: Record<string, string>) => (method: Method, url: string, payload?: object) =>
    app.inject({ method, url, cookies, headers: ORIGIN, ...(payload ? { payload } : {}) });
  const byKey = (method: Method, url: string, payload?: object) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${s.secretKey}` },
      ...(payload ? { payload } : {}),
    });
  const write = (email: string, text: string) =>
    receiveInbound(
      db,
      ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: email }], text },
      { defaultCountry: "FR" },
    );
  return { ...s, ws, inbox, asAgent: as(s.cookies), as, byKey, write };
}

/** A second member of the workspace, signed in. */
async function teammate(ws: string) {
  const email = `mate-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(db, {
    workspaceId: ws,
    email,
    role: "agent",
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
  });
  const cookie = res.cookies.find((c) => c.name === "rapport_session")?.value ?? "";
  return { user, cookies: { rapport_session: cookie } };
}

const unreadOf = (list: { data: Array<{ id: string; unread: boolean }> }) =>
  Object.fromEntries(list.data.map((c) => [c.id, c.unread]));

describe("unread markers", () => {
  it("marks a conversation read per agent until the customer writes again", async () => {
    const a = await agent();
    const mate = await teammate(a.ws);
    const asMate = a.as(mate.cookies);
    const first = await a.write("ada@example.com", "Hello");
    const second = await a.write("bob@example.com", "Hi there");
    // an activity-only conversation the customer never wrote in is not unread
    await db.execute(sql`UPDATE conversations SET last_customer_message_at = NULL
      WHERE workspace_id = ${a.ws} AND id = ${second.conversationId}`);

    expect(unreadOf((await a.asAgent("GET", "/api/v1/conversations")).json())).toEqual({
      [first.conversationId]: true,
      [second.conversationId]: false,
    });
    const heard: unknown[] = [];
    const stop = app.bus.subscribe(conversationsTopic(a.ws), (m) => heard.push(m));
    const read = await a.asAgent("POST", `/api/v1/conversations/${first.conversationId}/read`);
    expect(read.statusCode, read.body).toBe(204);
    expect(read.body).toBe("");
    // twice is fine
    expect((await a.asAgent("POST", `/api/v1/conversations/${first.conversationId}/read`)).statusCode).toBe(
      204,
    );

    expect(unreadOf((await a.asAgent("GET", "/api/v1/conversations")).json())[first.conversationId]).toBe(
      false,
    );
    expect((await a.asAgent("GET", `/api/v1/conversations/${first.conversationId}`)).json().unread).toBe(
      false,
    );
    // the teammate has not read it
    expect(unreadOf((await asMate("GET", "/api/v1/conversations")).json())[first.conversationId]).toBe(true);
    expect((await asMate("GET", `/api/v1/conversations/${first.conversationId}`)).json().unread).toBe(true);

    // the customer writes again: unread again
    await new Promise((r) => setTimeout(r, 5));
    await a.write("ada@example.com", "Anyone?");
    expect((await a.asAgent("GET", `/api/v1/conversations/${first.conversationId}`)).json().unread).toBe(
      true,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toContainEqual(
      expect.objectContaining({
        type: "conversation.read",
        conversationId: first.conversationId,
        userId: a.user.id,
      }),
    );
    stop();
  });

  it("counts each view's unread conversations when asked, and keeps the counts' shape otherwise", async () => {
    const a = await agent();
    const mine = await a.write("c1@example.com", "one");
    await a.write("c2@example.com", "two");
    const read = await a.write("c3@example.com", "three");
    await a.asAgent("PATCH", `/api/v1/conversations/${mine.conversationId}`, { assigneeId: a.user.id });
    await a.asAgent("POST", `/api/v1/conversations/${read.conversationId}/read`);

    const plain = (await a.asAgent("GET", "/api/v1/conversations/counts")).json();
    expect(plain.unread).toBeUndefined();
    expect(plain.views).toEqual({
      mine: { open: 1, pending: 0 },
      unassigned: { open: 2, pending: 0 },
      all: { open: 3, pending: 0 },
    });
    const withUnread = await a.asAgent("GET", "/api/v1/conversations/counts?unread=true");
    expect(withUnread.statusCode).toBe(200);
    expect(withUnread.json()).toMatchObject({
      views: plain.views,
      unread: { mine: 1, unassigned: 1, all: 2 },
    });
    const byKey = (await a.byKey("GET", "/api/v1/conversations/counts?unread=true")).json();
    expect(byKey.unread).toEqual({ mine: null, unassigned: 2, all: 3 });
    const bad = await a.asAgent("GET", "/api/v1/conversations/counts?unread=maybe");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("request.invalid");
  });

  it("refuses a secret key, another workspace's conversation, a bad id and a foreign origin", async () => {
    const a = await agent();
    const other = await agent();
    const { conversationId } = await a.write("ada@example.com", "Hello");
    const url = `/api/v1/conversations/${conversationId}/read`;

    const key = await a.byKey("POST", url);
    expect(key.statusCode).toBe(400);
    expect(key.json().error.code).toBe("conversations.not_an_agent");
    const foreign = await other.asAgent("POST", url);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe("conversations.conversation_not_found");
    const bad = await a.asAgent("POST", "/api/v1/conversations/nope/read");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("conversations.invalid_id");
    const crossSite = await app.inject({
      method: "POST",
      url,
      cookies: a.cookies,
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.statusCode).toBe(403);
    const anonymous = await app.inject({ method: "POST", url });
    expect(anonymous.statusCode).toBe(401);
    const marks = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM conversation_reads WHERE conversation_id = ${conversationId}`,
    );
    expect(marks).toEqual([{ n: 0 }]);
  });
});

describe("the agent's language", () => {
  it("reads and changes the signed-in user's own locale and name", async () => {
    const a = await agent();
    const me = await a.asAgent("GET", "/api/v1/auth/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ id: a.user.id, locale: null });

    const fr = await a.asAgent("PATCH", "/api/v1/auth/me", { locale: "fr", name: "  Amélie Poulain " });
    expect(fr.statusCode, fr.body).toBe(200);
    expect(fr.json().user).toMatchObject({ id: a.user.id, locale: "fr", name: "Amélie Poulain" });
    expect(fr.json().workspace.id).toBe(a.ws);
    expect((await a.asAgent("GET", "/api/v1/auth/me")).json().user).toMatchObject({
      locale: "fr",
      name: "Amélie Poulain",
    });
    // null follows the browser again; the name stays
    const cleared = await a.asAgent("PATCH", "/api/v1/auth/me", { locale: null });
    expect(cleared.json().user).toMatchObject({ locale: null, name: "Amélie Poulain" });
    const audit = await rows<{ action: string }>(
      db,
      sql`SELECT action FROM audit_log WHERE workspace_id = ${a.ws} AND action = 'user.profile_updated'`,
    );
    expect(audit).toHaveLength(2);
  });

  it("refuses a bad locale or name, an empty change, a secret key and a foreign origin, writing nothing", async () => {
    const a = await agent();
    const bad = await a.asAgent("PATCH", "/api/v1/auth/me", { locale: "de", name: "Changed" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({
      code: "users.invalid_locale",
      details: { locale: "de", allowed: ["en", "fr"] },
    });
    const wrongType = await a.asAgent("PATCH", "/api/v1/auth/me", { locale: 7 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.code).toBe("request.invalid");
    const blank = await a.asAgent("PATCH", "/api/v1/auth/me", { name: "   " });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.code).toBe("users.invalid_name");
    const empty = await a.asAgent("PATCH", "/api/v1/auth/me", {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe("users.invalid_profile");
    const key = await a.byKey("PATCH", "/api/v1/auth/me", { locale: "fr" });
    expect(key.statusCode).toBe(403);
    expect(key.json().error.code).toBe("auth.forbidden");
    const crossSite = await app.inject({
      method: "PATCH",
      url: "/api/v1/auth/me",
      cookies: a.cookies,
      headers: { origin: "https://evil.example" },
      payload: { locale: "fr" },
    });
    expect(crossSite.statusCode).toBe(403);
    expect((await a.asAgent("GET", "/api/v1/auth/me")).json().user).toMatchObject({
      locale: null,
      name: a.user.name,
    });
  });
});
