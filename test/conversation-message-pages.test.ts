import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

let app: App;
let db: Db;
beforeAll(async () => {
  app = await testApp();
  db = app.ctx.database.db;
});
afterAll(async () => {
  await app.close();
});

type Page = {
  data: Array<{ id: string; text: string }>;
  nextCursor: string | null;
  previousCursor: string | null;
};

/** A workspace with one conversation of `n` messages, "message 1" to "message n", a minute apart. */
async function longConversation(n: number) {
  const t = await createTestWorkspace();
  const ws = t.workspace.id;
  const inbox = await createInbox(db, ws, { kind: "api", name: "App" });
  const first = await receiveInbound(
    db,
    ws,
    {
      inboxId: inbox.id,
      from: [{ kind: "email", value: "long@example.com" }],
      text: "message 1",
      threadKey: "t",
    },
    { defaultCountry: "FR" },
  );
  await db.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind, text, created_at)
    SELECT ${ws}, gen_random_uuid(), ${first.conversationId}, ${inbox.id}, 'inbound', 'message', 'message ' || g,
      now() + g * interval '1 minute'
    FROM generate_series(2, ${n}) AS g`);
  const get = async (query: string) => {
    const res = await app.inject({
      method: "GET",
      url: `/api/v1/conversations/${first.conversationId}/messages?${query}`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    return res;
  };
  return { ws, conversationId: first.conversationId, get, secretKey: t.secretKey };
}

const texts = (p: Page) => p.data.map((m) => m.text);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `message ${from + i}`);

describe("a long conversation read from its end", () => {
  it("pages backward from the newest message, oldest first in each page, to the first message", async () => {
    const c = await longConversation(250);
    const latest = (await c.get("latest=true&limit=100")).json() as Page;
    expect(texts(latest)).toEqual(range(151, 250));
    expect(latest.nextCursor).toBeNull();
    expect(latest.previousCursor).toBe(latest.data[0]?.id);

    const earlier = (await c.get(`before=${latest.previousCursor}&limit=100`)).json() as Page;
    expect(texts(earlier)).toEqual(range(51, 150));
    const first = (await c.get(`before=${earlier.previousCursor}&limit=100`)).json() as Page;
    expect(texts(first)).toEqual(range(1, 50));
    // the start of the conversation: nothing before it
    expect(first.previousCursor).toBeNull();

    // forward paging is as it was: from the first message, with nextCursor
    const forward = (await c.get("limit=200")).json() as Page;
    expect(texts(forward)).toEqual(range(1, 200));
    expect(forward.previousCursor).toBeNull();
    const rest = (await c.get(`cursor=${forward.nextCursor}&limit=200`)).json() as Page;
    expect(texts(rest)).toEqual(range(201, 250));
    expect(rest.nextCursor).toBeNull();
  });

  it("answers a short conversation whole, with no cursor either way", async () => {
    const c = await longConversation(3);
    const page = (await c.get("latest=true")).json() as Page;
    expect(texts(page)).toEqual(range(1, 3));
    expect(page).toMatchObject({ nextCursor: null, previousCursor: null });
  });

  it("refuses cursors it did not give out, both directions at once, and another workspace's message", async () => {
    const c = await longConversation(5);
    const other = await longConversation(5);
    const theirs = ((await other.get("latest=true")).json() as Page).data[0]?.id ?? "";
    const mine = ((await c.get("latest=true")).json() as Page).data[2]?.id ?? "";
    const cases: Array<[string, number, string]> = [
      [`cursor=${mine}&before=${mine}`, 400, "conversations.invalid_cursor"],
      [`cursor=${mine}&latest=true`, 400, "conversations.invalid_cursor"],
      [`before=${theirs}`, 400, "conversations.invalid_cursor"],
      ["before=not-a-uuid", 400, "conversations.invalid_id"],
      ["before=0190d3a4-0000-7000-8000-000000000000", 400, "conversations.invalid_cursor"],
      ["latest=yes", 400, ""],
      ["limit=0&latest=true", 400, ""],
      ["limit=201&latest=true", 400, ""],
    ];
    for (const [query, status, code] of cases) {
      const res = await c.get(query);
      expect(res.statusCode, query).toBe(status);
      const error = (res.json() as { error: { code: string; message: string } }).error;
      if (code) expect(error.code, query).toBe(code);
      expect(error.message.length, query).toBeGreaterThan(10);
    }
    // another workspace's conversation is not found, whichever way it is read
    const res = await app.inject({
      method: "GET",
      url: `/api/v1/conversations/${other.conversationId}/messages?latest=true`,
      headers: { authorization: `Bearer ${c.secretKey}` },
    });
    expect(res.statusCode).toBe(404);
  });
});
