import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EMAIL_BYTES } from "../src/channels/email/parse.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { conversationsIn, emailInbox, emlFixture, messagesOf, tempStore } from "./support/email-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";

let app: App;
let db: Db;
beforeAll(async () => {
  ({ db } = await testDatabase());
  const { testApp } = await import("./support/factories.ts");
  app = await testApp({ RAPPORT_DATA_DIR: tempStore().dir });
});
afterAll(async () => app?.close());

async function setup() {
  const t = await createTestWorkspace();
  const inbox = await emailInbox(db, t.workspace.id);
  return { ws: t.workspace.id, key: t.secretKey, inbox };
}

function post(inboxId: string, key: string | undefined, body: Buffer, contentType = "message/rfc822") {
  return app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${inboxId}/email`,
    headers: { "content-type": contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    payload: body,
  });
}

describe("POST /api/v1/inboxes/:inboxId/email", () => {
  it("takes in raw MIME and answers the conversation and message ids; a reply joins it", async () => {
    const { ws, key, inbox } = await setup();
    const res = await post(inbox.id, key, emlFixture("01-gmail-new-alternative.eml"));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ outcome: "message", opened: true, duplicate: false, threadedBy: "new" });
    const [conversation] = await conversationsIn(db, ws);
    expect(body.conversationId).toBe(conversation?.id);
    const [m] = await messagesOf(db, ws, body.conversationId);
    expect(body.messageId).toBe(m?.id);
    const reply = (await post(inbox.id, key, emlFixture("02-gmail-reply.eml"))).json();
    expect(reply).toMatchObject({ conversationId: body.conversationId, threadedBy: "references" });
    const replay = (await post(inbox.id, key, emlFixture("02-gmail-reply.eml"))).json();
    expect(replay).toMatchObject({ duplicate: true, messageId: reply.messageId });
  });

  it("stores inert HTML and decodes Windows-1252", async () => {
    const { ws, key, inbox } = await setup();
    const xss = (await post(inbox.id, key, emlFixture("14-html-xss.eml"))).json();
    const [x] = await messagesOf(db, ws, xss.conversationId);
    expect(x?.html).not.toMatch(/<script|onerror|javascript:/i);
    const cp = (await post(inbox.id, key, emlFixture("09-windows-1252-qp.eml"))).json();
    const [c] = await messagesOf(db, ws, cp.conversationId);
    expect(c?.text).toContain("The “Deluxe” strings cost €29");
  });

  it("routes to the inbox posted to, whatever the recipient header says", async () => {
    const { ws, key, inbox } = await setup();
    const raw = emlFixture("05-apple-mail-first.eml", {
      "To: support@melodia.example": "To: someone@else.example",
    });
    const res = await post(inbox.id, key, raw);
    expect(res.statusCode).toBe(200);
    expect((await conversationsIn(db, ws))[0]?.id).toBe(res.json().conversationId);
  });

  it("refuses more than 30 MB with conversations.email_too_large and stores nothing", async () => {
    const { ws, key, inbox } = await setup();
    const res = await post(inbox.id, key, Buffer.alloc(MAX_EMAIL_BYTES + 10, 0x61));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("conversations.email_too_large");
    expect(await conversationsIn(db, ws)).toEqual([]);
  });

  it("bad input: no key 401, another workspace's inbox 404, not an email inbox 400, wrong content type 415, no sender 400", async () => {
    const a = await setup();
    const b = await setup();
    const raw = emlFixture("05-apple-mail-first.eml");
    expect((await post(a.inbox.id, undefined, raw)).statusCode).toBe(401);
    const cross = await post(b.inbox.id, a.key, raw);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe("conversations.inbox_not_found");
    const sms = await createInbox(db, a.ws, { kind: "sms", name: "SMS", address: "+14155550100" });
    const notEmail = await post(sms.id, a.key, raw);
    expect(notEmail.statusCode).toBe(400);
    expect(notEmail.json().error.code).toBe("conversations.not_an_email_inbox");
    const wrongType = await post(a.inbox.id, a.key, raw, "application/octet-stream");
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error.message).toContain("message/rfc822");
    const noFrom = await post(a.inbox.id, a.key, Buffer.from("Subject: hi\r\n\r\nbody\r\n"));
    expect(noFrom.statusCode).toBe(400);
    expect(noFrom.json().error.code).toBe("conversations.email_no_sender");
    expect(await conversationsIn(db, a.ws)).toEqual([]);
    expect(await conversationsIn(db, b.ws)).toEqual([]);
  });

  it("a bounce posted by a relay answers outcome bounce and opens nothing", async () => {
    const { ws, key, inbox } = await setup();
    const res = await post(inbox.id, key, emlFixture("12-dsn-bounce.eml"));
    expect(res.json()).toEqual({ outcome: "bounce", bounceRecorded: false });
    expect(await conversationsIn(db, ws)).toEqual([]);
  });
});
