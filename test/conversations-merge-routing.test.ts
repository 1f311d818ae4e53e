import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestRawEmail } from "../src/channels/email/ingest.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { replyToConversation } from "../src/conversations/replies.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { tempStore } from "./support/email-inbound.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

// A new message of a merged conversation's channel thread must land on the conversation it was
// merged into: receiveInbound follows `merged_into_id`, and email threading names the thread
// a moved message came from (`metadata.mergedFrom`).

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

function mail(from: string, messageId: string, inReplyTo?: string): Buffer {
  return Buffer.from(
    [
      `From: Ada <${from}>`,
      "To: help@melodia.example",
      "Subject: Crash",
      `Message-ID: ${messageId}`,
      ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`, `References: ${inReplyTo}`] : []),
      "Date: Wed, 01 Jan 2020 10:00:00 +0000",
      "Content-Type: text/plain; charset=utf-8",
      "",
      inReplyTo ? "Any news?" : "The app crashes on start",
      "",
    ].join("\r\n"),
  );
}

describe("a new message after a merge", () => {
  it("goes to the conversation its thread was merged into, on every channel", async () => {
    const s = await signedIn(app, "agent");
    const ws = s.workspace.id;
    await getMessagingSettings(db, ws);
    const sms = await createInbox(db, ws, { kind: "sms", name: "Line", address: "+15005550006" });
    // the inbox the customer's emails come in through, by its address
    await createInbox(db, ws, { kind: "email", name: "Mail", address: "help@melodia.example" });
    const phone = "+33677777777";
    const address = `ada-${uuidv7().slice(-8)}@example.com`;
    const bySms = await receiveInbound(
      db,
      ws,
      {
        inboxId: sms.id,
        from: [
          { kind: "phone", value: phone },
          { kind: "email", value: address },
        ],
        contactAddress: phone,
        providerMessageId: "SM1",
        text: "crash",
      },
      { defaultCountry: "FR" },
    );
    const opts = { defaultCountry: "FR", store: tempStore().store };
    const firstMail = `<first-${uuidv7()}@mail.example>`;
    const byMail = await ingestRawEmail(db, ws, mail(address, firstMail), opts);
    if (byMail.kind !== "message") throw new Error("the email was not stored");
    expect(byMail.customerId).toBe(bySms.customerId);

    // the email conversation goes into the SMS one: two channels, one timeline
    const merged = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${byMail.conversationId}/merge`,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      payload: { into: bySms.conversationId },
    });
    expect(merged.statusCode).toBe(200);
    await app.inject({
      method: "PATCH",
      url: `/api/v1/conversations/${bySms.conversationId}`,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      payload: { status: "resolved" },
    });

    // the customer answers the email thread: it lands on the SMS conversation and reopens it
    const answer = await ingestRawEmail(
      db,
      ws,
      mail(address, `<re-${uuidv7()}@mail.example>`, firstMail),
      opts,
    );
    expect(answer).toMatchObject({ kind: "message", conversationId: bySms.conversationId, opened: false });
    // and texts again
    const text = await receiveInbound(
      db,
      ws,
      { inboxId: sms.id, from: [{ kind: "phone", value: phone }], providerMessageId: "SM2", text: "hello?" },
      { defaultCountry: "FR" },
    );
    expect(text.conversationId).toBe(bySms.conversationId);
    const [state] = await rows<{ status: string; resolvedAt: string | null }>(
      db,
      sql`SELECT status, resolved_at::text AS "resolvedAt" FROM conversations WHERE workspace_id = ${ws} AND id = ${bySms.conversationId}`,
    );
    expect(state).toEqual({ status: "open", resolvedAt: null });
    // the stub keeps only its activity line
    const stub = await rows<{ kind: string }>(
      db,
      sql`SELECT kind FROM conversation_messages WHERE workspace_id = ${ws} AND conversation_id = ${byMail.conversationId}`,
    );
    expect(stub).toEqual([{ kind: "activity" }]);
  });

  it("refuses a reply in the merged conversation, which has nothing left to answer", async () => {
    const s = await signedIn(app, "agent");
    const ws = s.workspace.id;
    const inbox = await createInbox(db, ws, { kind: "api", name: "Form" });
    const one = await receiveInbound(
      db,
      ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: "mo@example.com" }], threadKey: "a", text: "a" },
      { defaultCountry: "FR" },
    );
    const two = await receiveInbound(
      db,
      ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: "mo@example.com" }], threadKey: "b", text: "b" },
      { defaultCountry: "FR" },
    );
    const merged = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${one.conversationId}/merge`,
      headers: { authorization: `Bearer ${s.secretKey}` },
      payload: { into: two.conversationId },
    });
    expect(merged.statusCode).toBe(200);
    const err = await replyToConversation(
      db,
      ws,
      one.conversationId,
      null,
      { text: "hi" },
      {
        publicUrl: "http://localhost:3000",
      },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "conversations.already_merged_conflict" });
  });
});
