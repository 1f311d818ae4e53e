import { sql } from "drizzle-orm";
import type { Transporter } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReplyAddress, replyAddress } from "../src/channels/email/reply-address.ts";
import type { SmtpListener } from "../src/channels/email/smtp-listener.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { replyToConversation } from "../src/conversations/replies.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports, createSmtpProvider } from "../src/delivery/providers/smtp.ts";
import { sendMessage } from "../src/delivery/send.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { conversationsIn, messagesOf, startTestListener } from "./support/email-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { emailThroughFakeSmtp, type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";

// End to end: an agent's reply leaves through the SMTP provider (to a fake SMTP server) with the
// conversation's reply+ address as Reply-To; the customer answers that address through Rapport's
// own SMTP listener, with no thread headers at all, and the answer lands in the same conversation.

let db: Db;
let smtp: FakeSmtp;
let listener: SmtpListener;
let customerMail: Transporter;

beforeAll(async () => {
  const database = await testDatabase();
  db = database.db;
  smtp = await startFakeSmtp();
  const mail = await startTestListener(database);
  listener = mail.listener;
  customerMail = mail.client;
});
afterAll(async () => {
  customerMail?.close();
  closeSmtpTransports();
  await listener?.close();
  await smtp?.close();
});

const header = (raw: string, name: string): string | undefined =>
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im")
    .exec(raw)?.[1]
    ?.replace(/\r?\n[ \t]+/g, " ")
    .trim();

/** A workspace sending through the fake SMTP server, with an email inbox at its own address. */
async function setup(inboxConfig: Record<string, unknown>) {
  const ws = (await createTestWorkspace()).workspace.id;
  // the provider's own Reply-To: a conversation's address must win over it
  await emailThroughFakeSmtp(db, ws, smtp, { replyTo: "noreply@melodia.example" });
  const address = `support-${uuidv7().slice(-12)}@melodia.example`;
  const inbox = await createInbox(db, ws, { kind: "email", name: "Support", address });
  // stored as given, checked or not: what replies do with a setting saved before its check
  await db.execute(
    sql`UPDATE inboxes SET config = ${JSON.stringify(inboxConfig)}::jsonb WHERE workspace_id = ${ws} AND id = ${inbox.id}`,
  );
  const customer = `ada-${uuidv7().slice(-8)}@example.com`;
  // the customer's first email, through the listener like any other mail
  await customerMail.sendMail({
    envelope: { from: customer, to: [address] },
    raw: [
      `From: Ada <${customer}>`,
      `To: ${address}`,
      "Subject: Playlist gone",
      `Message-ID: <first-${uuidv7()}@mail.example>`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Where did my playlist go?",
      "",
    ].join("\r\n"),
  });
  const [conversation] = await conversationsIn(db, ws);
  if (!conversation) throw new Error("the first email opened no conversation");
  return { ws, inbox, address, customer, conversationId: conversation.id };
}

/** An agent's reply, sent by the delivery engine; answers the mail the fake SMTP server got. */
async function agentReply(ws: string, conversationId: string) {
  const before = smtp.received.length;
  const reply = await replyToConversation(
    db,
    ws,
    conversationId,
    null,
    { text: "It is back." },
    {
      publicUrl: "https://rapport.example",
    },
  );
  expect(await runDelivery(db, ws, reply.delivery?.deliveryId ?? "")).toBe("sent");
  const all = await smtp.waitFor(before + 1);
  const mail = all[before];
  if (!mail) throw new Error("no mail reached the fake SMTP server");
  return mail;
}

describe("the conversation's reply address as each email reply's Reply-To", () => {
  it("carries reply+<token>@<inbound domain>, and an unthreaded answer to it lands in the same conversation", async () => {
    const { ws, customer, conversationId } = await setup({ replyDomain: "Reply.Melodia.example" });
    const mail = await agentReply(ws, conversationId);
    const replyTo = header(mail.rawHeaders, "Reply-To") ?? "";
    const settings = await getMessagingSettings(db, ws);
    expect(replyTo).toBe(replyAddress(settings, conversationId, "reply.melodia.example"));
    expect(readReplyAddress(replyTo)?.conversationId).toBe(conversationId);
    // one Reply-To only: the provider's configured one is replaced, not added
    expect(mail.rawHeaders.match(/^Reply-To:/gim)).toHaveLength(1);

    // the customer's client answers the Reply-To, dropping every thread header and changing the subject
    await customerMail.sendMail({
      envelope: { from: customer, to: [replyTo] },
      raw: [
        `From: Ada <${customer}>`,
        `To: ${replyTo}`,
        "Subject: thanks",
        `Message-ID: <answer-${uuidv7()}@mail.example>`,
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Found it, thank you!",
        "",
      ].join("\r\n"),
    });
    expect(await conversationsIn(db, ws)).toHaveLength(1);
    const messages = await messagesOf(db, ws, conversationId);
    expect(messages.map((m) => m.text.trim())).toEqual([
      "Where did my playlist go?",
      "It is back.",
      "Found it, thank you!",
    ]);
    expect(messages[2]?.metadata.threadedBy).toBe("reply_address");
  });

  it("without an inbound email domain (or with a bad one) the provider's own Reply-To stays", async () => {
    // a bad domain is refused when the inbox is created; one stored before the check is ignored
    const refused = await createInbox(db, (await createTestWorkspace()).workspace.id, {
      kind: "email",
      name: "Support",
      address: `bad-${uuidv7().slice(-12)}@melodia.example`,
      config: { replyDomain: "not a domain" },
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "conversations.invalid_inbox" });
    for (const config of [{}, { replyDomain: "not a domain" }]) {
      const { ws, conversationId } = await setup(config);
      const mail = await agentReply(ws, conversationId);
      expect(header(mail.rawHeaders, "Reply-To")).toBe("noreply@melodia.example");
    }
  });

  it("a forged reply+ token does not reach the conversation", async () => {
    const { ws, customer, conversationId } = await setup({ replyDomain: "reply.melodia.example" });
    const forged = replyAddress({ linkSecret: "not-the-secret" }, conversationId, "reply.melodia.example");
    const refused = await customerMail
      .sendMail({
        envelope: { from: customer, to: [forged] },
        raw: `From: ${customer}\r\nTo: ${forged}\r\nSubject: hi\r\nMessage-ID: <forged-${uuidv7()}@mail.example>\r\n\r\nhello\r\n`,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeDefined();
    expect(await messagesOf(db, ws, conversationId)).toHaveLength(1);
  });

  it("refuses a send request whose replyTo is not an address, writing no delivery", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const err = await sendMessage(
      db,
      ws,
      {
        customerId: uuidv7(),
        topic: "support",
        channel: "email",
        content: { subject: "Hi", text: "Hi" },
        replyTo: "reply+abc\r\nBcc: victim@example.com",
        idempotencyKey: uuidv7(),
        source: "test",
      },
      { publicUrl: "https://rapport.example" },
    ).catch((e: unknown) => e);
    expect(isAppError(err, "delivery.invalid_request")).toBe(true);
    expect(err instanceof Error ? err.message : "").toContain("replyTo");
  });

  it("the SMTP provider refuses a Reply-To header that is not one address", async () => {
    const provider = createSmtpProvider({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      from: "support@melodia.example",
    });
    const before = smtp.received.length;
    const result = await provider.send(
      {
        workspaceId: uuidv7(),
        deliveryId: uuidv7(),
        customerId: uuidv7(),
        channel: "email",
        to: "ada@example.com",
        idempotencyKey: uuidv7(),
        content: {
          subject: "Hi",
          text: "Hi",
          headers: { "Reply-To": "a@example.com, b@example.com" },
        },
      },
      new AbortController().signal,
    );
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok ? "" : result.reason).toContain("Reply-To");
    expect(smtp.received).toHaveLength(before);
  });
});
