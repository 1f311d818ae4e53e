import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationsTopic, receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { parseMentions } from "../src/conversations/mentions.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import type { Role } from "../src/platform/roles.ts";
import { createSession } from "../src/platform/sessions.ts";
import { createUser } from "../src/platform/users.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  // every test signs several people in from one address
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => {
  await app.close();
});

type Method = "GET" | "POST" | "PATCH";

/** A member of the workspace, signed in, who calls the API with their own session. */
async function member(
  ws: string,
  local: string,
  name: string,
  opts: { role?: Role; status?: "active" | "disabled" } = {},
) {
  const email = `${local}@${uuidv7().slice(-12)}.example.com`;
  const user = await createUser(db, {
    workspaceId: ws,
    email,
    name,
    role: opts.role ?? "agent",
    status: "active",
  });
  const { token: cookie } = await createSession(db, { workspaceId: ws, userId: user.id });
  if (opts.status === "disabled") {
    await db.execute(
      sql`UPDATE users SET status = 'disabled' WHERE workspace_id = ${ws} AND id = ${user.id}`,
    );
  }
  const call = (method: Method, url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: { rapport_session: cookie },
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  return { ...user, call };
}

/** A workspace with Ann (who writes the notes), a conversation, and a feed of the bus. */
async function setup() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  const ann = await member(ws, "ann", "Ann Lee");
  const inbox = await createInbox(db, ws, { kind: "api", name: "Form" });
  const open = async (thread: string) =>
    (
      await receiveInbound(
        db,
        ws,
        {
          inboxId: inbox.id,
          from: [{ kind: "email", value: "cust@example.com" }],
          threadKey: thread,
          text: "help",
        },
        { defaultCountry: "FR" },
      )
    ).conversationId;
  const conversationId = await open("t1");
  const heard: Array<Record<string, unknown>> = [];
  const stop = app.bus.subscribe(conversationsTopic(ws), (m) => {
    if (m && typeof m === "object") heard.push({ ...m });
  });
  const note = async (text: string, on = conversationId, priv = true) => {
    const res = await ann.call("POST", `/api/v1/conversations/${on}/messages`, { text, private: priv });
    expect(res.statusCode).toBe(201);
    return res.json().messageId as string;
  };
  return { ...s, ws, ann, open, conversationId, heard, stop, note };
}

async function mentioned(ws: string, messageId: string): Promise<string[]> {
  const found = await rows<{ userId: string }>(
    db,
    sql`SELECT user_id::text AS "userId" FROM conversation_mentions
        WHERE workspace_id = ${ws} AND message_id = ${messageId} ORDER BY user_id`,
  );
  return found.map((f) => f.userId);
}

async function until(what: string, check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("mentions in private notes", () => {
  it("reads composer tokens and typed handles, never the middle of an email address", () => {
    const id = "0190c2b4-5d6e-7f00-8a1b-2c3d4e5f6a7b";
    expect(
      parseMentions(
        `@[Bea Smith](user:${id}) and @carl, cc bob@example.com (@Dora.) @ @-x mail@x @ada.lovelace.`,
      ),
    ).toEqual({ userIds: [id], handles: ["carl", "dora", "ada.lovelace"] });
  });

  it("records the agents a note names, tells their screens, and lists them for each", async () => {
    const t = await setup();
    const bea = await member(t.ws, "bea", "Bea Smith");
    const carl = await member(t.ws, "carl", "Carl Jung");
    const dora = await member(t.ws, "dkeller", "Dora Keller");
    const example = await member(t.ws, "example", "Ex Ample");
    await member(t.ws, "sam1", "Sam One");
    await member(t.ws, "sam2", "Sam Two");
    const gone = await member(t.ws, "gone", "Gone Away", { status: "disabled" });
    const elsewhere = await signedIn(app, "agent");
    const zed = await createUser(db, {
      workspaceId: elsewhere.workspace.id,
      email: "zed@example.net",
      role: "agent",
      status: "active",
    });
    const messageId = await t.note(
      `@[Bea S.](user:${bea.id}) and @carl: refund ok? cc bob@example.com, @Dora. @sam @gone @zed ` +
        `@[Zed](user:${zed.id}) @ann`,
    );
    // Sam is two people and names nobody; Ann wrote the note; Gone is disabled; Zed works elsewhere
    expect(await mentioned(t.ws, messageId)).toEqual([bea.id, carl.id, dora.id].sort());
    expect(await mentioned(t.ws, messageId)).not.toContain(example.id);
    expect(await mentioned(t.ws, messageId)).not.toContain(gone.id);
    await until(
      "three mention events",
      () => t.heard.filter((m) => m.type === "mention.created").length === 3,
    );
    expect(t.heard.find((m) => m.type === "mention.created" && m.userId === bea.id)).toEqual({
      type: "mention.created",
      userId: bea.id,
      messageId,
      conversationId: t.conversationId,
      authorId: t.ann.id,
    });
    t.stop();

    const list = await bea.call("GET", "/api/v1/mentions");
    expect(list.statusCode).toBe(200);
    const [conversation] = await rows<{ number: number }>(
      db,
      sql`SELECT number FROM conversations WHERE workspace_id = ${t.ws} AND id = ${t.conversationId}`,
    );
    expect(list.json()).toMatchObject({
      unreadCount: 1,
      nextCursor: null,
      data: [
        {
          messageId,
          conversationId: t.conversationId,
          conversationNumber: conversation?.number,
          authorId: t.ann.id,
          authorName: "Ann Lee",
          readAt: null,
        },
      ],
    });
    expect(list.json().data[0].excerpt).toMatch(/^@\[Bea S\.\]/);
    // a public reply is no note: naming someone there records nothing
    const reply = await t.note("@carl will call you", t.conversationId, false);
    expect(await mentioned(t.ws, reply)).toEqual([]);
    expect((await t.ann.call("GET", "/api/v1/mentions")).json()).toMatchObject({ data: [], unreadCount: 0 });
  });

  it("lists unread first then newest, page by page, and marks one read once", async () => {
    const t = await setup();
    const bea = await member(t.ws, "bea", "Bea Smith");
    const ids: string[] = [];
    for (const text of ["one @bea", "two @bea", "three @bea"]) ids.push(await t.note(text));
    const [one, two, three] = ids as [string, string, string];
    const read = await bea.call("POST", `/api/v1/mentions/${three}/read`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ messageId: three });
    const again = await bea.call("POST", `/api/v1/mentions/${three}/read`);
    expect(again.json().readAt).toBe(read.json().readAt);

    const page1 = (await bea.call("GET", "/api/v1/mentions?limit=2")).json();
    expect(page1.data.map((m: { messageId: string }) => m.messageId)).toEqual([two, one]);
    expect(page1.unreadCount).toBe(2);
    const page2 = (await bea.call("GET", `/api/v1/mentions?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.data.map((m: { messageId: string }) => m.messageId)).toEqual([three]);
    expect(page2.nextCursor).toBeNull();
    const unread = (await bea.call("GET", "/api/v1/mentions?unread=true")).json();
    expect(unread.data.map((m: { messageId: string }) => m.messageId)).toEqual([two, one]);
    const done = (await bea.call("GET", "/api/v1/mentions?unread=false")).json();
    expect(done.data.map((m: { messageId: string }) => m.messageId)).toEqual([three]);

    const badCursor = await bea.call("GET", "/api/v1/mentions?cursor=bm9wZQ");
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe("conversations.invalid_cursor");
    expect((await bea.call("GET", "/api/v1/mentions?unread=maybe")).statusCode).toBe(400);
    const notMine = await t.ann.call("POST", `/api/v1/mentions/${one}/read`);
    expect(notMine.statusCode).toBe(404);
    expect(notMine.json().error.code).toBe("conversations.mention_not_found");
    const badId = await bea.call("POST", "/api/v1/mentions/not-an-id/read");
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.code).toBe("conversations.invalid_id");
    const byKey = await app.inject({
      method: "GET",
      url: "/api/v1/mentions",
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(byKey.statusCode).toBe(400);
    expect(byKey.json().error.code).toBe("conversations.not_an_agent");
    // another workspace's agent finds nothing of this one
    const stranger = await signedIn(app, "agent");
    const theirs = await app.inject({
      method: "POST",
      url: `/api/v1/mentions/${one}/read`,
      cookies: stranger.cookies,
      headers: { origin: "http://localhost:3000" },
    });
    expect(theirs.statusCode).toBe(404);
    expect((await bea.call("GET", "/api/v1/mentions")).json().unreadCount).toBe(2);
    t.stop();
  });

  it("follows its note into the conversation it was merged into", async () => {
    const t = await setup();
    const bea = await member(t.ws, "bea", "Bea Smith");
    const other = await t.open("t2");
    const messageId = await t.note("@bea this one is a duplicate");
    const merged = await t.ann.call("POST", `/api/v1/conversations/${t.conversationId}/merge`, {
      into: other,
    });
    expect(merged.statusCode).toBe(200);
    const list = (await bea.call("GET", "/api/v1/mentions")).json();
    expect(list.data).toMatchObject([{ messageId, conversationId: other }]);
    const [row] = await rows<{ conversationId: string }>(
      db,
      sql`SELECT conversation_id::text AS "conversationId" FROM conversation_mentions
          WHERE workspace_id = ${t.ws} AND message_id = ${messageId}`,
    );
    expect(row?.conversationId).toBe(other);
    t.stop();
  });
});
