import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConversation, listConversations } from "../src/conversations/conversations.ts";
import { listInboxes } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { getDelivery, setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { SCRIPTS } from "../src/demo/conversation-scripts.ts";
import { type DemoResult, seedDemo } from "../src/demo/seed.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createApiKey } from "../src/platform/api-keys.ts";
import { testApp } from "./support/factories.ts";

let app: App;
let db: Db;
let demo: DemoResult;
let ws: string;
let seedMs: number;
beforeAll(async () => {
  app = await testApp();
  db = app.ctx.database.db;
  const started = performance.now();
  demo = await seedDemo(db, { customers: 60, slug: `demo-${uuidv7().slice(-12)}` });
  seedMs = performance.now() - started;
  ws = demo.workspace.id;
});
afterAll(async () => {
  await app.close();
});

type MessageRow = {
  kind: string;
  status: string;
  threadKey: string | null;
  text: string;
  html: string | null;
  metadata: Record<string, unknown>;
  direction: string;
};

const messages = () =>
  rows<MessageRow>(
    db,
    sql`SELECT i.kind, c.status, c.thread_key AS "threadKey", m.text, m.html, m.metadata, m.direction
        FROM conversation_messages m
        JOIN conversations c ON c.workspace_id = m.workspace_id AND c.id = m.conversation_id
        JOIN inboxes i ON i.workspace_id = m.workspace_id AND i.id = m.inbox_id
        WHERE m.workspace_id = ${ws} ORDER BY m.created_at`,
  );

describe("the demo workspace's inboxes and conversations", () => {
  it("has an inbox per channel, each replying to the sandbox (the chat widget through itself)", async () => {
    const inboxes = await listInboxes(db, ws);
    expect(inboxes.map((i) => [i.kind, i.config.sandbox === true])).toEqual([
      ["email", true],
      ["chat", false],
      ["sms", true],
      ["whatsapp", true],
      ["messenger", true],
      ["instagram", true],
      ["x", true],
    ]);
    // loading stays quick enough for a first start
    expect(seedMs).toBeLessThan(60_000);
  });

  it("holds the scripted history: open and resolved, comments, an HTML email with its quoted history", async () => {
    expect(demo.conversations).toBe(SCRIPTS.length);
    const page = await listConversations(db, ws, { limit: 100 });
    expect(page.data).toHaveLength(SCRIPTS.length);
    const statuses = new Set(page.data.map((c) => c.status));
    expect([...statuses].sort()).toEqual(["open", "pending", "resolved"]);
    const all = await messages();
    const kinds = new Set(all.map((m) => m.kind));
    expect([...kinds].sort()).toEqual(["chat", "email", "instagram", "messenger", "sms", "whatsapp", "x"]);
    const comment = all.find((m) => m.metadata.source === "facebook_comment");
    expect(comment?.threadKey).toMatch(/^comments:\d+_\d+$/);
    expect(comment?.metadata.postText).toEqual(expect.stringContaining("Offline mode"));
    expect(comment?.metadata.replyTo).toEqual({ kind: "comment", id: expect.any(String) });
    // every comment conversation shows its post, stored with the demo (nothing read from Meta)
    const commented = page.data.filter((c) => c.channel && ["messenger", "instagram"].includes(c.channel));
    const posts = await Promise.all(commented.map(async (c) => (await getConversation(db, ws, c.id)).post));
    expect(posts.filter((p) => p !== null)).toHaveLength(SCRIPTS.filter((s) => s.comment).length);
    expect(posts).toContainEqual(
      expect.objectContaining({ status: "ready", text: expect.stringContaining("Offline mode") }),
    );
    expect(posts).toContainEqual(
      expect.objectContaining({ status: "ready", permalinkUrl: "https://www.instagram.com/p/C8xYz12AbCd/" }),
    );
    expect(
      await rows(db, sql`SELECT 1 FROM jobs WHERE workspace_id = ${ws} AND task = 'meta.fetch_post'`),
    ).toEqual([]);
    const quoted = all.find((m) => m.kind === "email" && m.html?.includes("blockquote"));
    expect(quoted?.text).toContain("> We have refunded your last payment.");
    expect(quoted?.html).not.toContain("<script");
    // every customer message is the customer's; the agents' answers are outbound
    expect(all.filter((m) => m.direction === "outbound")).toHaveLength(SCRIPTS.filter((s) => s.reply).length);
  });

  it("sends the agents' replies to the sandbox outbox even when real providers are configured", async () => {
    // a real SMS provider, which nothing may reach
    await setProvider(db, ws, "sms", "twilio", {
      accountSid: `AC${"00".repeat(16)}`,
      authToken: "t",
      from: "+15005550006",
      baseUrl: "http://127.0.0.1:9",
    });
    const replies = await rows<{ deliveryId: string; kind: string }>(
      db,
      sql`SELECT m.delivery_id::text AS "deliveryId", i.kind FROM conversation_messages m
          JOIN inboxes i ON i.workspace_id = m.workspace_id AND i.id = m.inbox_id
          WHERE m.workspace_id = ${ws} AND m.direction = 'outbound'`,
    );
    expect(replies.length).toBeGreaterThan(3);
    for (const r of replies) {
      await runDelivery(db, ws, r.deliveryId);
      const d = await getDelivery(db, ws, r.deliveryId);
      expect([r.kind, d.provider]).toEqual([r.kind, r.kind === "chat" ? "chat" : "sandbox"]);
    }
  });

  it("lets the simulator play a customer on each demo inbox", async () => {
    const key = await createApiKey(db, { workspaceId: ws, kind: "secret" });
    const listing = await app.inject({
      method: "GET",
      url: "/api/v1/simulator/inboxes",
      headers: { authorization: `Bearer ${key.token}` },
    });
    const inboxes: Array<{ id: string; kind: string; example: string }> = listing.json().data;
    expect(inboxes).toHaveLength(7);
    for (const inbox of inboxes) {
      const res = await app.inject({
        method: "POST",
        url: "/api/v1/simulator/messages",
        headers: { authorization: `Bearer ${key.token}` },
        payload: {
          inboxId: inbox.id,
          from: { address: inbox.example, name: "Sim Customer" },
          text: "Hi there",
        },
      });
      expect(res.statusCode, `${inbox.kind}: ${res.body}`).toBe(201);
    }
  });
});
