import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { listAudit } from "../src/platform/audit.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import type { Role } from "../src/platform/roles.ts";
import { createUser } from "../src/platform/users.ts";
import { createWorkspace, getWorkspaceBySlug } from "../src/platform/workspaces.ts";
import { testApp } from "./support/factories.ts";
import { PASSWORD, signedIn } from "./support/sign-in.ts";

let app: App;
let db: Db;
beforeAll(async () => {
  app = await testApp();
  db = app.ctx.database.db;
});
afterAll(async () => {
  await app.close();
});

const twilio = { accountSid: `AC${"ab12".repeat(8)}`, authToken: "sim-auth-token" };
const meta = { appSecret: "sim-app-secret", verifyToken: "sim-verify" };

/** One inbox of each kind the simulator plays, and an API inbox it does not. */
async function inboxesOf(ws: string) {
  return {
    sms: await createInbox(db, ws, { kind: "sms", name: "SMS", address: "+14155550100", config: twilio }),
    whatsapp: await createInbox(db, ws, {
      kind: "whatsapp",
      name: "WA",
      address: "+14155550101",
      config: twilio,
    }),
    email: await createInbox(db, ws, { kind: "email", name: "Mail", address: "help@brand.example" }),
    messenger: await createInbox(db, ws, { kind: "messenger", name: "FB", address: "1098765", config: meta }),
    instagram: await createInbox(db, ws, { kind: "instagram", name: "IG", address: "1784140", config: meta }),
    x: await createInbox(db, ws, {
      kind: "x",
      name: "X",
      address: "@Brand",
      config: { consumerSecret: "sim-consumer", userId: "1372648374726402050" },
    }),
    chat: await createInbox(db, ws, { kind: "chat", name: "Chat" }),
    api: await createInbox(db, ws, { kind: "api", name: "API" }),
  };
}

async function play(cookies: Record<string, string>, body: unknown) {
  return app.inject({ method: "POST", url: "/api/v1/simulator/messages", cookies, payload: body as object });
}

async function messagesOf(conversationId: string) {
  const { rows } = await import("../src/db/client.ts");
  const { sql } = await import("drizzle-orm");
  return rows<{ id: string; text: string; threadKey: string | null; metadata: Record<string, unknown> }>(
    db,
    sql`SELECT m.id::text AS id, m.text, c.thread_key AS "threadKey", m.metadata FROM conversation_messages m
        JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        WHERE m.conversation_id = ${conversationId} ORDER BY m.created_at, m.id`,
  );
}

describe("the customer simulator", () => {
  it("lists the inboxes it can play, with the address each needs", async () => {
    const admin = await signedIn(app, "admin");
    const inboxes = await inboxesOf(admin.workspace.id);
    const res = await app.inject({ method: "GET", url: "/api/v1/simulator/inboxes", cookies: admin.cookies });
    expect(res.statusCode).toBe(200);
    const data: Array<{ id: string; kind: string; addressKind: string; supports: { postId: boolean } }> =
      res.json().data;
    expect(data.map((i) => [i.kind, i.addressKind])).toEqual([
      ["sms", "phone"],
      ["whatsapp", "phone"],
      ["email", "email"],
      ["messenger", "psid"],
      ["instagram", "psid"],
      ["x", "handle"],
      ["chat", "visitor"],
    ]);
    expect(data.some((i) => i.id === inboxes.api.id)).toBe(false);
    expect(data.find((i) => i.kind === "messenger")?.supports.postId).toBe(true);
  });

  it("plays every channel through its real webhook, threads follow-ups, and audit-logs each message", async () => {
    const admin = await signedIn(app, "admin");
    const ws = admin.workspace.id;
    const inboxes = await inboxesOf(ws);
    const cases: Array<[keyof typeof inboxes, Record<string, unknown>, string]> = [
      ["sms", { address: "+14155550123" }, "+14155550123"],
      ["whatsapp", { address: "+33612345678", name: "Amélie Durand" }, "+33612345678"],
      ["email", { address: "Ada@Example.com", name: "Ada Lovelace" }, "ada@example.com"],
      ["messenger", { address: "6543210987654321" }, "6543210987654321"],
      ["instagram", { address: "1234567890123456" }, "1234567890123456"],
      ["x", { address: "@pat_listens", name: "Pat" }, "pat_listens"],
      ["chat", { address: "visitor-12345678" }, "visitor-12345678"],
    ];
    for (const [kind, from, address] of cases) {
      const res = await play(admin.cookies, {
        inboxId: inboxes[kind].id,
        from,
        text: `Hello from ${kind}`,
        ...(kind === "email" ? { subject: "My playlists" } : {}),
      });
      expect(res.statusCode, `${kind}: ${res.body}`).toBe(201);
      const body = res.json();
      expect(body).toEqual({
        conversationId: expect.any(String),
        messageId: expect.any(String),
        inboxId: inboxes[kind].id,
        channel: inboxes[kind].channel,
        address,
      });
      const stored = await messagesOf(body.conversationId);
      expect(stored.map((m) => [m.id, m.text])).toEqual([[body.messageId, `Hello from ${kind}`]]);
    }
    const audit = await listAudit(db, ws, { action: "simulator.message" });
    expect(audit.entries).toHaveLength(cases.length);
    expect(audit.entries[0]?.actorId).toBe(admin.user.id);

    // an email answer threads under the customer's first email by its Message-ID
    const first = await play(admin.cookies, {
      inboxId: inboxes.email.id,
      from: { address: "grace@example.com" },
      subject: "Refund",
      text: "Where is my refund?",
    });
    const [firstMessage] = await messagesOf(first.json().conversationId);
    const messageId = firstMessage?.metadata.messageId;
    expect(messageId).toMatch(/^<.+@example\.com>$/);
    const again = await play(admin.cookies, {
      inboxId: inboxes.email.id,
      from: { address: "grace@example.com" },
      inReplyTo: messageId,
      subject: "Re: Refund",
      text: "Any news?",
    });
    expect(again.json().conversationId).toBe(first.json().conversationId);

    // a comment under a post is its own thread, answerable where it was written
    const comment = await play(admin.cookies, {
      inboxId: inboxes.messenger.id,
      from: { address: "6543210987654321", name: "Sam Rivera" },
      postId: "1098765_122134567890123456",
      text: "The app crashes",
    });
    expect(comment.statusCode, comment.body).toBe(201);
    const [c] = await messagesOf(comment.json().conversationId);
    expect(c?.threadKey).toBe("comments:1098765_122134567890123456");
    expect(c?.metadata.replyTo).toEqual({ kind: "comment", id: expect.any(String) });
    expect(comment.json().conversationId).not.toBe(
      (
        await play(admin.cookies, {
          inboxId: inboxes.messenger.id,
          from: { address: "6543210987654321" },
          text: "And a DM",
        })
      ).json().conversationId,
    );

    // an X reply to a brand tweet is public
    const tweet = await play(admin.cookies, {
      inboxId: inboxes.x.id,
      from: { address: "pat_listens" },
      postId: "1899105532764213250",
      text: "still broken",
    });
    expect(tweet.statusCode, tweet.body).toBe(201);
    const [t] = await messagesOf(tweet.json().conversationId);
    expect(t?.metadata.replyTo).toEqual({ kind: "post", id: expect.any(String) });

    // the same visitor again continues their chat
    const chat = await play(admin.cookies, {
      inboxId: inboxes.chat.id,
      from: { address: "visitor-12345678" },
      text: "Still there?",
    });
    expect((await messagesOf(chat.json().conversationId)).map((m) => m.text)).toEqual([
      "Hello from chat",
      "Still there?",
    ]);
  });

  it("refuses what it cannot play, naming what to fix", async () => {
    const admin = await signedIn(app, "admin");
    const inboxes = await inboxesOf(admin.workspace.id);
    const expectError = async (body: unknown, status: number, code: string) => {
      const res = await play(admin.cookies, body);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
    };
    await expectError(
      { inboxId: uuidv7(), from: { address: "+14155550123" }, text: "hi" },
      404,
      "conversations.inbox_not_found",
    );
    await expectError(
      { inboxId: inboxes.api.id, from: { address: "a@example.com" }, text: "hi" },
      400,
      "simulator.unsupported_inbox",
    );
    await expectError(
      { inboxId: inboxes.sms.id, from: { address: "not a phone" }, text: "hi" },
      400,
      "simulator.invalid_address",
    );
    await expectError(
      { inboxId: inboxes.email.id, from: { address: "+14155550123" }, text: "hi" },
      400,
      "simulator.invalid_address",
    );
    await expectError(
      { inboxId: inboxes.messenger.id, from: { address: "sam" }, text: "hi" },
      400,
      "simulator.invalid_address",
    );
    await expectError(
      { inboxId: inboxes.sms.id, from: { address: "+14155550123" }, text: "   " },
      400,
      "simulator.empty_text",
    );
    await expectError({ inboxId: inboxes.sms.id, text: "hi" }, 400, "simulator.invalid_message");
    // nothing was stored or logged for any of them
    expect((await listAudit(db, admin.workspace.id, { action: "simulator.message" })).entries).toEqual([]);
  });

  it("lets agents play only on the demo workspace", async () => {
    const agent = await signedIn(app, "agent");
    const inboxes = await inboxesOf(agent.workspace.id);
    const body = { inboxId: inboxes.sms.id, from: { address: "+14155550123" }, text: "hi" };
    const refused = await play(agent.cookies, body);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("simulator.forbidden");
    const listing = await app.inject({
      method: "GET",
      url: "/api/v1/simulator/inboxes",
      cookies: agent.cookies,
    });
    expect(listing.statusCode).toBe(403);

    const demo =
      (await getWorkspaceBySlug(db, "demo")) ?? (await createWorkspace(db, { name: "Demo", slug: "demo" }));
    const demoInboxes = await inboxesOf(demo.id);
    const cookies = await signInAs(demo.id, "agent");
    const played = await play(cookies, { ...body, inboxId: demoInboxes.sms.id });
    expect(played.statusCode, played.body).toBe(201);
  });

  it("answers 401 without a session or key", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/simulator/messages", payload: {} });
    expect(res.statusCode).toBe(401);
  });
});

async function signInAs(workspaceId: string, role: Role): Promise<Record<string, string>> {
  const email = `${role}-${uuidv7().slice(-12)}@example.com`;
  await createUser(db, {
    workspaceId,
    email,
    role,
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
  });
  const cookie = res.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${res.body}`);
  return { rapport_session: cookie };
}
