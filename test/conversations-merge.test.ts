import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { replyToConversation } from "../src/conversations/replies.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createEndpoint } from "../src/delivery/webhooks/endpoints.ts";
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

type Method = "GET" | "POST" | "PATCH";

/** A workspace with a signed-in agent, an SMS and an email inbox, and a webhook endpoint. */
async function setup() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  await getMessagingSettings(db, ws);
  const sms = await createInbox(db, ws, { kind: "sms", name: "Support line", address: "+15005550006" });
  const email = await createInbox(db, ws, {
    kind: "email",
    name: "Support mail",
    address: "help@melodia.example",
  });
  await createEndpoint(
    db,
    ws,
    { url: "https://hooks.melodia.example/rapport", eventTypes: ["conversation.updated"] },
    { kind: "system" },
    { resolve: async () => [{ address: "93.184.216.34", family: 4 }] },
  );
  const asAgent = (method: Method, url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  /** A customer's message at a given time; email messages share one thread unless told. */
  const text = (
    at: string,
    inboxId: string,
    from: string | Array<{ kind: "phone" | "email"; value: string }>,
    body: string,
    id: string,
    threadKey: string | undefined = inboxId === email.id ? "<t1@mail.example>" : undefined,
  ) =>
    receiveInbound(
      db,
      ws,
      {
        inboxId,
        from: Array.isArray(from) ? from : [{ kind: inboxId === sms.id ? "phone" : "email", value: from }],
        contactAddress: Array.isArray(from) ? from[0]?.value : from,
        providerMessageId: id,
        text: body,
        threadKey,
        receivedAt: new Date(at),
      },
      { defaultCountry: "FR" },
    );
  const merge = (from: string, into: string) =>
    asAgent("POST", `/api/v1/conversations/${from}/merge`, { into });
  return { ...s, ws, sms, email, asAgent, text, merge };
}

async function timeline(db: Db, ws: string, conversationId: string) {
  return rows<{ text: string; kind: string; inboxId: string }>(
    db,
    sql`SELECT text, kind, inbox_id::text AS "inboxId" FROM conversation_messages
        WHERE workspace_id = ${ws} AND conversation_id = ${conversationId} ORDER BY created_at, id`,
  );
}

describe("merging conversations", () => {
  it("moves the source's messages into one timeline in time order and folds its state into the target", async () => {
    const t = await setup();
    const ada = "+33611111111";
    // the customer texts first, then writes an email; both share her phone and email
    const bySms = await t.text("2020-01-01T10:00:00Z", t.sms.id, ada, "App crashes on start", "SM1");
    const first = await t.text(
      "2020-01-01T10:05:00Z",
      t.email.id,
      [
        { kind: "email", value: "ada@example.com" },
        { kind: "phone", value: ada },
      ],
      "Still crashing, see attached",
      "<m1@mail.example>",
    );
    await db.execute(
      sql`UPDATE conversations SET subject = 'Crash' WHERE workspace_id = ${t.ws} AND id = ${first.conversationId}`,
    );
    const byMail = await t.text(
      "2020-01-01T10:20:00Z",
      t.email.id,
      "ada@example.com",
      "Any news?",
      "<m2@mail.example>",
    );
    expect(byMail.conversationId).toBe(first.conversationId);
    const late = await t.text("2020-01-01T10:10:00Z", t.sms.id, ada, "Hello??", "SM2");
    expect(byMail.customerId).toBe(bySms.customerId);
    expect(late.conversationId).toBe(bySms.conversationId);

    // the email conversation is triaged; the SMS one has an answer and an unanswered question
    await t.asAgent("PATCH", `/api/v1/conversations/${byMail.conversationId}`, {
      status: "resolved",
      labels: ["crash", "ios"],
      priority: "low",
      attributes: { plan: "premium", os: "iOS 18" },
    });
    await t.asAgent("PATCH", `/api/v1/conversations/${bySms.conversationId}`, {
      labels: ["crash", "android"],
      priority: "high",
      assigneeId: t.user.id,
      attributes: { os: "Android 15", device: "Pixel" },
    });
    await replyToConversation(
      db,
      t.ws,
      bySms.conversationId,
      t.user.id,
      { text: "Looking", private: true },
      {
        publicUrl: "http://localhost:3000",
      },
    );
    const before = (await t.asAgent("GET", `/api/v1/conversations/${bySms.conversationId}`)).json();

    const res = await t.merge(bySms.conversationId, byMail.conversationId);
    expect(res.statusCode).toBe(200);
    const { into, merged } = res.json();
    expect(into).toMatchObject({
      id: byMail.conversationId,
      status: "open", // the SMS side still waited for an answer: the merge does not hide it
      resolvedAt: null,
      priority: "high",
      assigneeId: t.user.id,
      labels: ["crash", "ios", "android"],
      attributes: { plan: "premium", os: "iOS 18", device: "Pixel" },
      subject: "Crash",
      mergedIntoId: null,
      channel: "email",
      contactAddress: "ada@example.com",
    });
    expect(into.createdAt).toBe(before.createdAt);
    expect(Date.parse(into.lastMessageAt)).toBe(Date.parse("2020-01-01T10:20:00Z"));
    expect(merged).toMatchObject({
      id: bySms.conversationId,
      status: "resolved",
      mergedIntoId: byMail.conversationId,
    });
    expect(merged.resolvedAt).not.toBeNull();

    const listed = (await t.asAgent("GET", `/api/v1/conversations/${byMail.conversationId}/messages`)).json();
    expect(listed.data.map((m: { text: string; kind: string }) => [m.kind, m.text])).toEqual([
      ["message", "App crashes on start"],
      ["message", "Still crashing, see attached"],
      ["message", "Hello??"],
      ["message", "Any news?"],
      ["note", "Looking"],
      ["activity", `Conversation #${merged.number} was merged into #${into.number}.`],
    ]);
    // each message keeps its own inbox, and remembers the conversation it came in on
    const moved = listed.data.find((m: { text: string }) => m.text === "Hello??");
    expect(moved.metadata.mergedFrom).toEqual({
      conversationId: bySms.conversationId,
      number: merged.number,
    });
    expect(
      (await timeline(db, t.ws, byMail.conversationId)).filter((m) => m.inboxId === t.sms.id),
    ).toHaveLength(3);
    // the stub says where everything went
    expect(await timeline(db, t.ws, bySms.conversationId)).toEqual([
      {
        kind: "activity",
        text: `Conversation #${merged.number} was merged into #${into.number}.`,
        inboxId: t.sms.id,
      },
    ]);
    // pages of the merged timeline follow time, not insertion
    const page1 = (
      await t.asAgent("GET", `/api/v1/conversations/${byMail.conversationId}/messages?limit=2`)
    ).json();
    const page2 = (
      await t.asAgent(
        "GET",
        `/api/v1/conversations/${byMail.conversationId}/messages?limit=2&cursor=${page1.nextCursor}`,
      )
    ).json();
    expect(page2.data.map((m: { text: string }) => m.text)).toEqual(["Hello??", "Any news?"]);

    // a replay of a moved message is still stored once, and names where it lives now
    const replay = await t.text("2020-01-01T10:10:00Z", t.sms.id, ada, "Hello??", "SM2");
    expect(replay).toMatchObject({
      duplicate: true,
      messageId: late.messageId,
      conversationId: byMail.conversationId,
    });

    const hooks = await rows<{ data: Record<string, unknown> }>(
      db,
      sql`SELECT payload->'data' AS data FROM webhook_messages
          WHERE workspace_id = ${t.ws} AND payload->'data'->>'reason' = 'merged' ORDER BY id`,
    );
    expect(hooks.map((h) => h.data)).toEqual([
      {
        conversationId: bySms.conversationId,
        changes: ["status", "mergedIntoId"],
        reason: "merged",
        mergedIntoId: byMail.conversationId,
      },
      {
        conversationId: byMail.conversationId,
        changes: ["messages", "status", "priority", "assigneeId", "labels", "attributes"],
        reason: "merged",
        mergedFromId: bySms.conversationId,
      },
    ]);
    const [audit] = await rows<{ actorId: string; details: Record<string, unknown> }>(
      db,
      sql`SELECT actor_id::text AS "actorId", details FROM audit_log
          WHERE workspace_id = ${t.ws} AND action = 'conversation.merged'`,
    );
    expect(audit).toMatchObject({ actorId: t.user.id, details: { mergedId: bySms.conversationId } });

    // the stub cannot be changed or merged again; the target can go on
    const patch = await t.asAgent("PATCH", `/api/v1/conversations/${bySms.conversationId}`, {
      status: "open",
    });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().error).toMatchObject({ code: "conversations.already_merged_conflict" });
    expect(patch.json().error.message).toContain(`#${into.number}`);
  });

  it("keeps the earlier start and first response, and the livelier status", async () => {
    const t = await setup();
    const older = await t.text("2020-02-01T09:00:00Z", t.sms.id, "+33622222222", "first", "SA");
    const newer = await t.text(
      "2020-02-01T11:00:00Z",
      t.email.id,
      [
        { kind: "email", value: "leo@example.com" },
        { kind: "phone", value: "+33622222222" },
      ],
      "second",
      "<ma@mail.example>",
    );
    expect(newer.customerId).toBe(older.customerId);
    await db.execute(sql`UPDATE conversations SET first_response_at = '2020-02-01T09:30:00Z', created_at = '2020-02-01T09:00:00Z'
      WHERE workspace_id = ${t.ws} AND id = ${older.conversationId}`);
    await db.execute(sql`UPDATE conversations SET first_response_at = '2020-02-01T11:05:00Z', created_at = '2020-02-01T11:00:00Z'
      WHERE workspace_id = ${t.ws} AND id = ${newer.conversationId}`);
    const snoozeUntil = new Date(Date.now() + 3_600_000).toISOString();
    await t.asAgent("PATCH", `/api/v1/conversations/${newer.conversationId}`, {
      status: "snoozed",
      snoozedUntil: snoozeUntil,
    });
    await t.asAgent("PATCH", `/api/v1/conversations/${older.conversationId}`, { status: "pending" });

    const res = await t.merge(newer.conversationId, older.conversationId);
    expect(res.statusCode).toBe(200);
    const { into } = res.json();
    expect(Date.parse(into.createdAt)).toBe(Date.parse("2020-02-01T09:00:00Z"));
    expect(Date.parse(into.firstResponseAt)).toBe(Date.parse("2020-02-01T09:30:00Z"));
    // pending beats snoozed: nobody waits for a snooze to end to see the customer's news
    expect(into).toMatchObject({ status: "pending", snoozedUntil: null });
  });

  it("refuses a merge into itself, of another workspace, of two customers, or of a merged one, writing nothing", async () => {
    const t = await setup();
    const other = await setup();
    const a = await t.text("2020-03-01T10:00:00Z", t.sms.id, "+33633333333", "a", "S1");
    const b = await t.text("2020-03-01T10:01:00Z", t.email.id, "bob@example.com", "b", "e1");
    const theirs = await other.text("2020-03-01T10:00:00Z", other.sms.id, "+33633333333", "x", "S1");
    const count = async () =>
      (
        await rows<{ n: number }>(
          db,
          sql`SELECT count(*)::int AS n FROM conversation_messages WHERE workspace_id = ${t.ws} AND kind = 'activity'`,
        )
      )[0]?.n;

    const self = await t.merge(a.conversationId, a.conversationId);
    expect(self.statusCode).toBe(400);
    expect(self.json().error.code).toBe("conversations.invalid_merge");
    const bad = await t.merge(a.conversationId, "nope");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: "conversations.invalid_id" });
    expect((await t.asAgent("POST", `/api/v1/conversations/${a.conversationId}/merge`, {})).statusCode).toBe(
      400,
    );
    for (const [from, into] of [
      [a.conversationId, theirs.conversationId],
      [theirs.conversationId, a.conversationId],
    ] as const) {
      const r = await t.merge(from, into);
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe("conversations.conversation_not_found");
    }

    // two different people: refused, and their profiles stay apart
    const two = await t.merge(a.conversationId, b.conversationId);
    expect(two.statusCode).toBe(409);
    expect(two.json().error).toMatchObject({ code: "conversations.merge_customer_conflict" });
    expect(two.json().error.message).toMatch(/merge the customers first/);
    const customers = await rows<{ id: string; mergedInto: string | null }>(
      db,
      sql`SELECT id::text AS id, merged_into::text AS "mergedInto" FROM customers
          WHERE workspace_id = ${t.ws} AND id IN (${a.customerId}, ${b.customerId})`,
    );
    expect(customers).toHaveLength(2);
    expect(customers.every((c) => c.mergedInto === null)).toBe(true);
    expect(await count()).toBe(0);

    // a chain: c into a works, then nothing goes into or out of c any more
    const c = await t.text("2020-03-01T10:05:00Z", t.sms.id, "+33633333333", "c", "S3");
    expect(c.conversationId).toBe(a.conversationId);
    await db.execute(
      sql`UPDATE conversations SET thread_key = 'other' WHERE workspace_id = ${t.ws} AND id = ${a.conversationId}`,
    );
    const d = await t.text("2020-03-01T10:06:00Z", t.sms.id, "+33633333333", "d", "S4");
    expect(d.conversationId).not.toBe(a.conversationId);
    expect((await t.merge(d.conversationId, a.conversationId)).statusCode).toBe(200);
    const again = await t.merge(d.conversationId, a.conversationId);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("conversations.already_merged_conflict");
    const intoStub = await t.merge(a.conversationId, d.conversationId);
    expect(intoStub.statusCode).toBe(409);
    expect(intoStub.json().error.message).toMatch(/merge into #\d+ instead/);
    expect(await count()).toBe(2);
  });

  it("merges under concurrency: crossed merges of one pair leave exactly one, merges into one target all land", async () => {
    const t = await setup();
    const phone = "+33644444444";
    const convs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await t.text(`2020-04-01T10:0${i}:00Z`, t.sms.id, phone, `m${i}`, `SC${i}`);
      convs.push(r.conversationId);
      // the next message opens its own conversation
      await db.execute(
        sql`UPDATE conversations SET thread_key = ${`t${i}`} WHERE workspace_id = ${t.ws} AND id = ${r.conversationId}`,
      );
    }
    const [a, b, c, d] = convs as [string, string, string, string];
    const crossed = await Promise.all([t.merge(a, b), t.merge(b, a)]);
    expect(crossed.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const winner = crossed.find((r) => r.statusCode === 200)?.json();
    const all = await Promise.all([t.merge(c, winner.into.id), t.merge(d, winner.into.id)]);
    expect(all.map((r) => r.statusCode)).toEqual([200, 200]);
    const texts = (await timeline(db, t.ws, winner.into.id))
      .filter((m) => m.kind === "message")
      .map((m) => m.text);
    expect(texts).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("lets a secret key merge: the activity then has no author", async () => {
    const t = await setup();
    const a = await t.text("2020-05-01T10:00:00Z", t.sms.id, "+33655555555", "a", "S1");
    await db.execute(
      sql`UPDATE conversations SET thread_key = 'x' WHERE workspace_id = ${t.ws} AND id = ${a.conversationId}`,
    );
    const b = await t.text("2020-05-01T10:01:00Z", t.sms.id, "+33655555555", "b", "S2");
    const admin = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${a.conversationId}/merge`,
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: { into: b.conversationId },
    });
    expect(admin.statusCode).toBe(200);
    const [activity] = await rows<{ authorId: string | null }>(
      db,
      sql`SELECT author_id::text AS "authorId" FROM conversation_messages
          WHERE workspace_id = ${t.ws} AND conversation_id = ${b.conversationId} AND kind = 'activity'`,
    );
    expect(activity?.authorId).toBeNull();
  });
});
