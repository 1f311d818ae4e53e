import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

const sms = (inboxId: string, from: string, sid: string) => ({
  inboxId,
  from: [{ kind: "phone" as const, value: from }],
  contactAddress: from,
  providerMessageId: sid,
  text: `message ${sid}`,
});

describe("inbound messages arriving together", () => {
  it("gives a new sender's simultaneous messages one customer and one conversation", async () => {
    const { workspace } = await createTestWorkspace();
    const inbox = await createInbox(db, workspace.id, { kind: "sms", name: "Line", address: "+15005550006" });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        receiveInbound(db, workspace.id, sms(inbox.id, "+33612345678", `SM${i}`), { defaultCountry: "FR" }),
      ),
    );
    expect(new Set(results.map((r) => r.customerId)).size).toBe(1);
    expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    const [count] = await rows<{ customers: number; conversations: number; messages: number }>(
      db,
      sql`SELECT (SELECT count(*)::int FROM customers WHERE workspace_id = ${workspace.id}) AS customers,
          (SELECT count(*)::int FROM conversations WHERE workspace_id = ${workspace.id}) AS conversations,
          (SELECT count(*)::int FROM conversation_messages WHERE workspace_id = ${workspace.id}) AS messages`,
    );
    expect(count).toEqual({ customers: 1, conversations: 1, messages: 20 });
  });

  it("numbers simultaneous new conversations uniquely and in order of opening, and stores a replay once", async () => {
    const { workspace } = await createTestWorkspace();
    const inbox = await createInbox(db, workspace.id, { kind: "sms", name: "Line", address: "+15005550006" });
    const senders = Array.from({ length: 30 }, (_, i) => `+336100000${String(i).padStart(2, "0")}`);
    // every sender twice, and each provider message id twice: 30 conversations, 60 messages
    const results = await Promise.all(
      senders.flatMap((from, i) => [
        receiveInbound(db, workspace.id, sms(inbox.id, from, `A${i}`), { defaultCountry: "FR" }),
        receiveInbound(db, workspace.id, sms(inbox.id, from, `B${i}`), { defaultCountry: "FR" }),
        receiveInbound(db, workspace.id, sms(inbox.id, from, `A${i}`), { defaultCountry: "FR" }),
      ]),
    );
    expect(results.filter((r) => r.duplicate)).toHaveLength(30);
    const list = await rows<{ number: number; customerId: string }>(
      db,
      sql`SELECT number, customer_id::text AS "customerId" FROM conversations
          WHERE workspace_id = ${workspace.id} ORDER BY created_at, number`,
    );
    expect(list).toHaveLength(30);
    expect(new Set(list.map((c) => c.customerId)).size).toBe(30);
    const numbers = list.map((c) => c.number);
    // unique and without gaps: a replay's or a retried transaction's number is given back
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const [m] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM conversation_messages WHERE workspace_id = ${workspace.id}`,
    );
    expect(m?.n).toBe(60);
  });

  it("refuses a message without a sender and stores nothing", async () => {
    const { workspace } = await createTestWorkspace();
    const inbox = await createInbox(db, workspace.id, { kind: "sms", name: "Line", address: "+15005550006" });
    await expect(
      receiveInbound(db, workspace.id, { inboxId: inbox.id, from: [], text: "hi" }, { defaultCountry: "FR" }),
    ).rejects.toMatchObject({ code: "conversations.invalid_sender" });
    const [c] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM conversations WHERE workspace_id = ${workspace.id}`,
    );
    expect(c?.n).toBe(0);
  });
});
