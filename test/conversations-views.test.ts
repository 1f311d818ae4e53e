import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam } from "../src/conversations/assignment.ts";
import { updateConversation } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createUser } from "../src/platform/users.ts";
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

type Row = {
  id: string;
  status: string;
  customerName: string | null;
  lastMessage: { preview: string; direction: string; kind: string; at: string } | null;
};

/** A signed-in agent's workspace with an API inbox, an SMS inbox and a helper to open conversations. */
async function workspace() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  const api = await createInbox(db, ws, { kind: "api", name: "App" });
  const sms = await createInbox(db, ws, {
    kind: "sms",
    name: "Line",
    address: "+15005550006",
    channel: "sms",
  });
  const base = Date.parse("2026-03-01T10:00:00.000Z");
  const open = async (
    who: string,
    minute: number,
    opts: { inboxId?: string; name?: string; text?: string; phone?: boolean } = {},
  ) => {
    const r = await receiveInbound(
      db,
      ws,
      {
        inboxId: opts.inboxId ?? api.id,
        from: [opts.phone ? { kind: "phone", value: who } : { kind: "email", value: who }],
        ...(opts.phone ? { contactAddress: who } : {}),
        text: opts.text ?? `Hello from ${who}`,
        traits: opts.name ? { name: opts.name } : undefined,
        receivedAt: new Date(base + minute * 60_000),
      },
      { defaultCountry: "FR" },
    );
    return r.conversationId;
  };
  /** An agent's answer at that minute: the customer no longer waits. */
  const answer = async (conversationId: string, who: string, minute: number) => {
    await receiveInbound(
      db,
      ws,
      {
        inboxId: api.id,
        from: [{ kind: "email", value: who }],
        text: "We are on it",
        direction: "outbound",
        receivedAt: new Date(base + minute * 60_000),
      },
      { defaultCountry: "FR" },
    );
    return conversationId;
  };
  const get = (url: string) =>
    app.inject({ method: "GET", url, cookies: s.cookies, headers: { origin: "http://localhost:3000" } });
  const withKey = (url: string) =>
    app.inject({ method: "GET", url, headers: { authorization: `Bearer ${s.secretKey}` } });
  const ids = async (query: string) => {
    const res = await get(`/api/v1/conversations?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data.map((c: Row) => c.id);
  };
  return { ...s, ws, api, sms, open, answer, get, withKey, ids };
}

async function colleague(ws: string) {
  return createUser(db, {
    workspaceId: ws,
    email: `colleague-${uuidv7().slice(-12)}@example.com`,
    role: "agent",
    status: "active",
  });
}

describe("conversation list views", () => {
  it("lists mine, unassigned and all, and a secret key cannot ask for mine", async () => {
    const w = await workspace();
    const other = await colleague(w.ws);
    const a = await w.open("a@example.com", 1);
    const b = await w.open("b@example.com", 2);
    const c = await w.open("c@example.com", 3);
    await updateConversation(db, w.ws, a, { assigneeId: w.user.id });
    await updateConversation(db, w.ws, b, { assigneeId: other.id });

    expect(await w.ids("view=mine")).toEqual([a]);
    expect(await w.ids("view=unassigned")).toEqual([c]);
    expect(await w.ids("view=all")).toEqual([c, b, a]);
    expect(await w.ids("")).toEqual([c, b, a]);

    const byKey = await w.withKey("/api/v1/conversations?view=mine");
    expect(byKey.statusCode).toBe(400);
    expect(byKey.json().error.code).toBe("conversations.view_needs_agent");
    expect(byKey.json().error.message).toMatch(/view=mine/);
    expect((await w.withKey("/api/v1/conversations?view=unassigned")).json().data).toHaveLength(1);
  });

  it("filters by inbox, channel, team, label, one or several statuses, priority and customer", async () => {
    const w = await workspace();
    const team = await createTeam(db, w.ws, "Billing");
    const a = await w.open("a@example.com", 1);
    const b = await w.open("b@example.com", 2);
    const c = await w.open("+33611111111", 3, { inboxId: w.sms.id, phone: true });
    await updateConversation(db, w.ws, a, { teamId: team.id, labels: ["refund", "vip"], priority: "high" });
    await updateConversation(db, w.ws, b, { status: "pending", labels: ["refund"] });
    await updateConversation(db, w.ws, c, { status: "resolved" });

    expect(await w.ids(`inboxId=${w.sms.id}`)).toEqual([c]);
    expect(await w.ids(`inboxId=${w.api.id}`)).toEqual([b, a]);
    expect(await w.ids("channel=sms")).toEqual([c]);
    expect(await w.ids(`teamId=${team.id}`)).toEqual([a]);
    expect(await w.ids("label=refund")).toEqual([b, a]);
    expect(await w.ids("label=vip")).toEqual([a]);
    expect(await w.ids("status=open")).toEqual([a]);
    expect(await w.ids("status=open,pending")).toEqual([b, a]);
    expect(await w.ids("status=resolved")).toEqual([c]);
    expect(await w.ids("priority=high")).toEqual([a]);
    expect(await w.ids("status=open,pending&label=refund&view=unassigned")).toEqual([b, a]);
    const customerId = (await w.get(`/api/v1/conversations/${b}`)).json().customerId;
    expect(await w.ids(`customerId=${customerId}`)).toEqual([b]);

    // another workspace's inbox or team is a filter that matches nothing here
    const elsewhere = await workspace();
    expect(await w.ids(`inboxId=${elsewhere.api.id}`)).toEqual([]);
  });

  it("refuses bad filters with a 400 naming the parameter", async () => {
    const w = await workspace();
    const cases: Array<[string, RegExp]> = [
      ["status=open,closed", /status/],
      ["view=everyone", /view/],
      ["sort=oldest", /sort/],
      ["inboxId=inbox-1", /inboxId/],
      ["teamId=12", /teamId/],
      ["channel=pigeon", /channel/],
      ["priority=critical", /priority/],
      ["limit=0", /limit/],
    ];
    for (const [query, param] of cases) {
      const res = await w.get(`/api/v1/conversations?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe("request.invalid");
      expect(res.json().error.message, query).toMatch(param);
    }
  });

  it("shows the customer's name and the last message's preview and direction in one list", async () => {
    const w = await workspace();
    const named = await w.open("ada@example.com", 1, { name: "Ada Lovelace", text: "x".repeat(300) });
    const anonymous = await w.open("bob@example.com", 2);
    const texted = await w.open("+33622222222", 3, { inboxId: w.sms.id, phone: true });
    await w.answer(anonymous, "bob@example.com", 4);
    const list: Row[] = (await w.get("/api/v1/conversations")).json().data;
    const byId = new Map(list.map((c) => [c.id, c]));
    expect(byId.get(named)?.customerName).toBe("Ada Lovelace");
    expect(byId.get(named)?.lastMessage).toMatchObject({
      preview: "x".repeat(140),
      direction: "inbound",
      kind: "message",
    });
    expect(byId.get(anonymous)?.customerName).toBe("bob@example.com");
    expect(byId.get(anonymous)?.lastMessage).toMatchObject({
      preview: "We are on it",
      direction: "outbound",
    });
    expect(byId.get(texted)?.customerName).toBe("+33622222222");
    // the row keeps every field it had
    expect(byId.get(named)).toMatchObject({ number: 1, status: "open", labels: [], inboxId: w.api.id });
  });

  it("sorts by last message, waiting, created and priority, and pages each order without gaps", async () => {
    const w = await workspace();
    const c1 = await w.open("c1@example.com", 1);
    const c2 = await w.open("c2@example.com", 2);
    const c3 = await w.open("c3@example.com", 3);
    const c4 = await w.open("c4@example.com", 4);
    const c5 = await w.open("c5@example.com", 5);
    // c2 was answered: it waits for nobody; c1 wrote again later, c1 is still the longest waiting
    await w.answer(c2, "c2@example.com", 6);
    await w.open("c1@example.com", 7);
    await updateConversation(db, w.ws, c3, { priority: "urgent" });
    await updateConversation(db, w.ws, c5, { priority: "urgent" });
    await updateConversation(db, w.ws, c1, { priority: "low" });
    // created in another order than their last messages
    for (const [id, day] of [
      [c1, 5],
      [c2, 4],
      [c3, 1],
      [c4, 3],
      [c5, 2],
    ] as const) {
      await db.execute(
        sql`UPDATE conversations SET created_at = ${`2026-02-0${day}T00:00:00Z`}::timestamptz WHERE workspace_id = ${w.ws} AND id = ${id}`,
      );
    }
    const expected: Record<string, string[]> = {
      last_message: [c1, c2, c5, c4, c3],
      waiting: [c3, c4, c5, c1],
      created: [c1, c2, c4, c5, c3],
      priority: [c5, c3, c1, c2, c4],
    };
    for (const [sort, order] of Object.entries(expected)) {
      expect(await w.ids(`sort=${sort}`), sort).toEqual(order);
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await w.get(
          `/api/v1/conversations?sort=${sort}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json();
        walked.push(...page.data.map((c: Row) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(walked, sort).toEqual(order);
    }
  });

  it("refuses a cursor of another sort, and a forged one", async () => {
    const w = await workspace();
    await w.open("a@example.com", 1);
    await w.open("b@example.com", 2);
    const first = (await w.get("/api/v1/conversations?sort=created&limit=1")).json();
    expect(first.nextCursor).toEqual(expect.any(String));
    const mixed = await w.get(`/api/v1/conversations?sort=waiting&cursor=${first.nextCursor}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().error).toMatchObject({ code: "conversations.cursor_sort_mismatch" });
    expect(mixed.json().error.message).toMatch(/cursor.*sort=created/);
    // the default sort is last_message: a created cursor is not one of its
    expect((await w.get(`/api/v1/conversations?cursor=${first.nextCursor}`)).statusCode).toBe(400);
    for (const forged of [
      "not-a-cursor",
      Buffer.from(JSON.stringify({ sort: "created", at: "yesterday", id: uuidv7() })).toString("base64url"),
      Buffer.from(JSON.stringify({ sort: "priority", at: "2026-01-01T00:00:00Z", id: uuidv7() })).toString(
        "base64url",
      ),
    ]) {
      const res = await w.get(`/api/v1/conversations?sort=created&cursor=${forged}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("conversations.invalid_cursor");
      expect(res.json().error.message).toMatch(/^cursor:/);
    }
  });
});
