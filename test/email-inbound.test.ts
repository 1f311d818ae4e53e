import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { type IngestResult, ingestRawEmail } from "../src/channels/email/ingest.ts";
import { MAX_EMAIL_BYTES } from "../src/channels/email/parse.ts";
import { replyAddress } from "../src/channels/email/reply-address.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import type { AttachmentStore } from "../src/conversations/attachments.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import {
  conversationsIn,
  deliveryState,
  emailInbox,
  emlFixture,
  knownCustomer,
  messagesOf,
  sentEmail,
  suppressed,
  tempStore,
} from "./support/email-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
let store: AttachmentStore;
beforeAll(async () => {
  ({ db } = await testDatabase());
  ({ store } = tempStore());
});

async function setup() {
  const { workspace } = await createTestWorkspace();
  const inbox = await emailInbox(db, workspace.id);
  return { ws: workspace.id, inbox };
}

async function ingest(ws: string, raw: Buffer | string): Promise<Extract<IngestResult, { kind: "message" }>> {
  const result = await ingestRawEmail(db, ws, typeof raw === "string" ? emlFixture(raw) : raw, {
    defaultCountry: "US",
    store,
  });
  if (result.kind !== "message") throw new Error(`expected a message, got ${JSON.stringify(result)}`);
  return result;
}

describe("inbound email: customers and conversations", () => {
  it("a new mail lands on the existing customer (by email) in a new conversation, with its headers", async () => {
    const { ws, inbox } = await setup();
    const ada = await knownCustomer(db, ws, "ada.lovelace@gmail.example");
    const r = await ingest(ws, "01-gmail-new-alternative.eml");
    expect(r).toMatchObject({
      customerId: ada,
      inboxId: inbox.id,
      opened: true,
      duplicate: false,
      threadedBy: "new",
    });
    const [conversation] = await conversationsIn(db, ws);
    expect(conversation).toMatchObject({
      id: r.conversationId,
      customerId: ada,
      subject: "Order #1042 never arrived",
      threadKey: "<CAF=k7QX3pZ0Hn1y9sQ@mail.gmail.example>",
    });
    const [m] = await messagesOf(db, ws, r.conversationId);
    expect(m?.text).toContain('the tracking\npage still says "label created"');
    expect(m?.html).toContain("<div>Hello,</div>");
    expect(m?.providerMessageId).toBe("<CAF=k7QX3pZ0Hn1y9sQ@mail.gmail.example>");
    expect(m?.metadata).toMatchObject({
      messageId: "<CAF=k7QX3pZ0Hn1y9sQ@mail.gmail.example>",
      subject: "Order #1042 never arrived",
      inReplyTo: [],
      references: [],
      from: { address: "ada.lovelace@gmail.example", name: "Ada Lovelace" },
    });
  });

  it("the same email twice is stored once", async () => {
    const { ws } = await setup();
    const a = await ingest(ws, "01-gmail-new-alternative.eml");
    const b = await ingest(ws, "01-gmail-new-alternative.eml");
    expect(b).toMatchObject({ duplicate: true, messageId: a.messageId, conversationId: a.conversationId });
    expect(await messagesOf(db, ws, a.conversationId)).toHaveLength(1);
  });

  it("replies with In-Reply-To/References from Gmail and Apple Mail join their conversation", async () => {
    const { ws } = await setup();
    const first = await ingest(ws, "01-gmail-new-alternative.eml");
    const reply = await ingest(ws, "02-gmail-reply.eml");
    expect(reply).toMatchObject({
      conversationId: first.conversationId,
      opened: false,
      threadedBy: "references",
    });
    const apple = await ingest(ws, "05-apple-mail-first.eml");
    const appleReply = await ingest(ws, "04-apple-mail-reply.eml");
    expect(apple.conversationId).not.toBe(first.conversationId);
    expect(appleReply).toMatchObject({ conversationId: apple.conversationId, threadedBy: "references" });
    const [m] = (await messagesOf(db, ws, appleReply.conversationId)).slice(-1);
    expect(m?.text).toContain("Tuesday afternoon works for me — I’ll bring the violin.");
    expect(m?.html).toContain('<blockquote type="cite">');
  });

  it("a reply to an agent's email (found through its delivery's Message-ID) joins the conversation", async () => {
    const { ws, inbox } = await setup();
    const first = await ingest(ws, "01-gmail-new-alternative.eml");
    const agentMail = "<0190aa11-agent-reply-1@melodia.example>";
    const deliveryId = await sentEmail(db, ws, first.customerId, "ada.lovelace@gmail.example", agentMail);
    await db.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, text, delivery_id)
      VALUES (${ws}, ${uuidv7()}, ${first.conversationId}, ${inbox.id}, 'outbound', 'Sorry for the wait', ${deliveryId})`);
    // only the agent's Message-ID: the customer's own root is not referenced
    const raw = emlFixture("02-gmail-reply.eml", {
      "References: <CAF=k7QX3pZ0Hn1y9sQ@mail.gmail.example> <0190aa11-agent-reply-1@melodia.example>": `References: ${agentMail}`,
      "Subject: Re: Order #1042 never arrived": "Subject: Thanks",
    });
    const reply = await ingest(ws, raw);
    expect(reply).toMatchObject({ conversationId: first.conversationId, threadedBy: "references" });
  });

  it("a reply to any email Rapport sent (a broadcast) opens a conversation for that customer, and the next joins it", async () => {
    const { ws, inbox } = await setup();
    const bjorn = await knownCustomer(db, ws, "bjorn.muller@outlook.example");
    await sentEmail(
      db,
      ws,
      bjorn,
      "bjorn.muller@outlook.example",
      "<5f1e3c9a0b7d4e2f8a6c1b3d5e7f9a0b@melodia.example>",
    );
    // written to news@ (no inbox has that address): the ledger routes it to the workspace's email inbox
    const r = await ingest(ws, "03-outlook-reply-to-broadcast.eml");
    expect(r).toMatchObject({ customerId: bjorn, inboxId: inbox.id, opened: true, threadedBy: "sent_email" });
    const [m] = await messagesOf(db, ws, r.conversationId);
    expect(m?.text).toContain("Hallo, gilt der Rabatt auch für Ukulelen?");
    const again = await ingest(
      ws,
      emlFixture("03-outlook-reply-to-broadcast.eml", {
        "Message-ID: <AM6PR09MB4567": "Message-ID: <SECOND4567",
      }),
    );
    expect(again).toMatchObject({
      conversationId: r.conversationId,
      opened: false,
      threadedBy: "sent_email",
    });
  });

  it("without thread headers, the same subject from the same sender within 30 days joins the conversation", async () => {
    const { ws } = await setup();
    const first = await ingest(ws, "01-gmail-new-alternative.eml");
    const later = await ingest(ws, "17-subject-fallback.eml");
    expect(later).toMatchObject({ conversationId: first.conversationId, threadedBy: "subject" });
    // another subject is another conversation
    const other = await ingest(
      ws,
      emlFixture("17-subject-fallback.eml", {
        "RE: Fwd: AW: Order #1042": "Question about order #2000",
        "<CAF=k7QY-no-references": "<CAF=k7QY-other-subject",
      }),
    );
    expect(other).toMatchObject({ opened: true, threadedBy: "new" });
    // over 30 days old, the subject no longer threads
    await db.execute(sql`UPDATE conversations SET last_message_at = now() - interval '31 days'
      WHERE workspace_id = ${ws} AND id = ${first.conversationId}`);
    const stale = await ingest(
      ws,
      emlFixture("17-subject-fallback.eml", { "<CAF=k7QY-no-references": "<CAF=k7QY-later" }),
    );
    expect(stale.conversationId).not.toBe(first.conversationId);
    expect(stale.threadedBy).toBe("new");
  });

  it("the reply+<token> address leads to its conversation; a forged token leads nowhere", async () => {
    const { ws } = await setup();
    const first = await ingest(ws, "01-gmail-new-alternative.eml");
    const settings = await getMessagingSettings(db, ws);
    const address = replyAddress(settings, first.conversationId, "melodia.example");
    const raw = (to: string, id: string) =>
      Buffer.from(
        `From: Ada Lovelace <ada.lovelace@gmail.example>\r\nTo: ${to}\r\nSubject: one more thing\r\nMessage-ID: <${id}@gmail.example>\r\n\r\nAlso, the case is scratched.\r\n`,
      );
    const r = await ingest(ws, raw(address, "token-1"));
    expect(r).toMatchObject({ conversationId: first.conversationId, threadedBy: "reply_address" });
    const forged = replyAddress({ linkSecret: "not-the-secret" }, first.conversationId, "melodia.example");
    const err = await ingestRawEmail(db, ws, raw(forged, "token-2"), { defaultCountry: "US", store }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(err, "conversations.email_unroutable")).toBe(true);
    expect(await messagesOf(db, ws, first.conversationId)).toHaveLength(2);
  });
});

describe("inbound email: automatic replies and bounces", () => {
  it("an out-of-office reply is stored flagged and does not reopen a resolved conversation", async () => {
    const { ws } = await setup();
    const first = await ingest(ws, "01-gmail-new-alternative.eml");
    await db.execute(sql`UPDATE conversations SET status = 'resolved', resolved_at = now()
      WHERE workspace_id = ${ws} AND id = ${first.conversationId}`);
    const oof = await ingest(ws, "11-out-of-office.eml");
    expect(oof).toMatchObject({ conversationId: first.conversationId, autoReply: true });
    const [conversation] = await conversationsIn(db, ws);
    expect(conversation?.status).toBe("resolved");
    const stored = (await messagesOf(db, ws, first.conversationId)).at(-1);
    expect(stored?.metadata).toMatchObject({
      autoReply: true,
      autoReplyReason: "auto-submitted: auto-replied",
    });
    // a person's reply still reopens it
    await ingest(ws, "02-gmail-reply.eml");
    expect((await conversationsIn(db, ws))[0]?.status).toBe("open");
  });

  it("an automatic reply to nothing in the inbox opens no conversation", async () => {
    const { ws } = await setup();
    const result = await ingestRawEmail(db, ws, emlFixture("18-vacation-precedence.eml"), {
      defaultCountry: "US",
      store,
    });
    expect(result).toEqual({ kind: "dropped", reason: "auto_reply_without_conversation" });
    expect(await conversationsIn(db, ws)).toEqual([]);
  });

  it("a DSN bounce marks the delivery bounced and suppresses the address, with no conversation", async () => {
    const { ws } = await setup();
    const customer = await knownCustomer(db, ws, "gone.customer@mail.example");
    const id = await sentEmail(
      db,
      ws,
      customer,
      "gone.customer@mail.example",
      "<9a8b7c6d5e4f30211a2b3c4d5e6f7a8b@melodia.example>",
    );
    const result = await ingestRawEmail(db, ws, emlFixture("12-dsn-bounce.eml"), {
      defaultCountry: "US",
      store,
    });
    expect(result).toMatchObject({
      kind: "bounce",
      recorded: true,
      originalMessageId: "<9a8b7c6d5e4f30211a2b3c4d5e6f7a8b@melodia.example>",
    });
    expect(await deliveryState(db, ws, id)).toBe("bounced");
    expect(await suppressed(db, ws, "gone.customer@mail.example")).toEqual(["hard_bounce"]);
    expect(await conversationsIn(db, ws)).toEqual([]);
  });

  it("a mailer-daemon bounce without a DSN part does the same; an unknown bounce is dropped", async () => {
    const { ws } = await setup();
    const customer = await knownCustomer(db, ws, "old.friend@mail.example");
    const id = await sentEmail(
      db,
      ws,
      customer,
      "old.friend@mail.example",
      "<1f2e3d4c5b6a79881f2e3d4c5b6a7988@melodia.example>",
    );
    const result = await ingestRawEmail(db, ws, emlFixture("13-mailer-daemon-no-dsn.eml"), {
      defaultCountry: "US",
      store,
    });
    expect(result).toMatchObject({ kind: "bounce", recorded: true });
    expect(await deliveryState(db, ws, id)).toBe("bounced");
    expect(await suppressed(db, ws, "old.friend@mail.example")).toEqual(["hard_bounce"]);
    const other = await setup();
    const unknown = await ingestRawEmail(db, other.ws, emlFixture("12-dsn-bounce.eml"), {
      defaultCountry: "US",
      store,
    });
    expect(unknown).toMatchObject({ kind: "bounce", recorded: false });
    expect(await conversationsIn(db, other.ws)).toEqual([]);
  });
});

describe("inbound email: content", () => {
  it("stores HTML with script, handlers and javascript: links removed", async () => {
    const { ws } = await setup();
    const r = await ingest(ws, "14-html-xss.eml");
    const [m] = await messagesOf(db, ws, r.conversationId);
    expect(m?.html).toContain("<b>see below</b>");
    expect(m?.html).not.toMatch(/<script|onerror|onload|javascript:|<iframe|<form|expression\(/i);
    expect(m?.html).toContain(
      'href="https://melodia.example/help" rel="noopener noreferrer nofollow" target="_blank"',
    );
  });

  it("decodes ISO-8859-1, Windows-1252 and Shift_JIS mail right", async () => {
    const { ws } = await setup();
    const cases: Array<[string, string]> = [
      ["08-iso-8859-1-qp.eml", "J'ai commandé une flûte traversière; le reçu indique « payé »"],
      ["09-windows-1252-qp.eml", "The “Deluxe” strings cost €29 — I was charged €39…"],
      ["10-shift-jis-base64.eml", "注文したギターがまだ届いていません。"],
    ];
    for (const [name, expected] of cases) {
      const r = await ingest(ws, name);
      const [m] = await messagesOf(db, ws, r.conversationId);
      expect(m?.text, name).toContain(expected);
    }
    const subjects = (await conversationsIn(db, ws)).map((c) => c.subject);
    expect(subjects).toEqual([
      "Flûte traversère commandée",
      "Overcharged € on “Deluxe” strings",
      "ギターの配送について",
    ]);
  });

  it("stores attachments and inline images (kept with their cid, shown from where they are served)", async () => {
    const { ws } = await setup();
    const pdf = await ingest(ws, "06-attachment-pdf.eml");
    const [withPdf] = await messagesOf(db, ws, pdf.conversationId);
    expect(withPdf?.attachments).toMatchObject([
      { name: "invoice-2025-031.pdf", contentType: "application/pdf" },
    ]);
    const file = await store.get(ws, withPdf?.attachments[0]?.key ?? "");
    expect(file?.data.subarray(0, 8).toString()).toBe("%PDF-1.4");
    const img = await ingest(ws, "07-inline-image.eml");
    const [withImg] = await messagesOf(db, ws, img.conversationId);
    const key = withImg?.attachments[0]?.key;
    expect(withImg?.metadata.inlineImages).toEqual({ "scratch-photo@fastmail.example": key });
    expect(withImg?.html).toContain(`<img src="/api/v1/attachments/${key}" alt="scratch" width="400">`);
    expect((await store.get(ws, key ?? ""))?.contentType).toBe("image/png");
  });

  it("takes in a huge header section and a malformed multipart", async () => {
    const { ws } = await setup();
    const huge = await ingest(ws, "15-huge-header.eml");
    expect((await messagesOf(db, ws, huge.conversationId))[0]?.text).toContain("drum lessons");
    const broken = await ingest(ws, "16-malformed-boundary.eml");
    expect((await messagesOf(db, ws, broken.conversationId))[0]?.text).toContain("My tuner broke");
  });

  it("refuses more than 30 MB with a clear error and stores nothing", async () => {
    const { ws } = await setup();
    const head = emlFixture("05-apple-mail-first.eml");
    const raw = Buffer.concat([head, Buffer.alloc(MAX_EMAIL_BYTES + 1 - head.length, 0x61)]);
    const err = await ingestRawEmail(db, ws, raw, { defaultCountry: "US", store }).catch((e: unknown) => e);
    expect(isAppError(err, "conversations.email_too_large")).toBe(true);
    expect(await conversationsIn(db, ws)).toEqual([]);
  });

  it("refuses a mail without a sender, or to no inbox, and stores nothing", async () => {
    const { ws } = await setup();
    const noFrom = Buffer.from("To: support@melodia.example\r\nSubject: hi\r\n\r\nbody\r\n");
    const a = await ingestRawEmail(db, ws, noFrom, { defaultCountry: "US", store }).catch((e: unknown) => e);
    expect(isAppError(a, "conversations.email_no_sender")).toBe(true);
    const elsewhere = emlFixture("05-apple-mail-first.eml", {
      "To: support@melodia.example": "To: sales@other.example",
    });
    const b = await ingestRawEmail(db, ws, elsewhere, { defaultCountry: "US", store }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(b, "conversations.email_unroutable")).toBe(true);
    expect(await conversationsIn(db, ws)).toEqual([]);
  });
});
