import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestRawEmail } from "../src/channels/email/ingest.ts";
import { addSuppression } from "../src/consent/suppressions.ts";
import { localAttachmentStore } from "../src/conversations/attachments.ts";
import { listMessages } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { rows } from "../src/db/client.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports } from "../src/delivery/providers/smtp.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { emailThroughFakeSmtp, type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";

let app: App;
let db: Db;
let smtp: FakeSmtp;
beforeAll(async () => {
  app = await testApp();
  db = app.ctx.database.db;
  smtp = await startFakeSmtp();
});
afterAll(async () => {
  closeSmtpTransports();
  await smtp.close();
  await app.close();
});

/** The first mail the fake server got whose text holds these words (waiting for more while none does). */
async function mailContaining(words: string) {
  for (let n = 1; ; n++) {
    const found = (await smtp.waitFor(n)).find((m) => m.text?.includes(words));
    if (found) return found;
  }
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(raw)?.[1]?.replace(/\r?\n[ \t]+/g, " ");

/** A workspace sending email through the fake SMTP server, with an email inbox and an SMS one. */
async function emailWorkspace() {
  const t = await createTestWorkspace();
  const ws = t.workspace.id;
  await emailThroughFakeSmtp(db, ws, smtp);
  const inbox = await createInbox(db, ws, {
    kind: "email",
    name: "Support",
    address: "support@melodia.example",
    config: { replyDomain: "reply.melodia.example" },
  });
  await createInbox(db, ws, { kind: "email", name: "Billing", address: "billing@melodia.example" });
  const store = localAttachmentStore(mkdtempSync(join(tmpdir(), "rapport-cc-")));
  const post = (conversationId: string, body: unknown) =>
    app.inject({
      method: "POST",
      url: `/api/v1/conversations/${conversationId}/messages`,
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: body as Record<string, unknown>,
    });
  return { ws, inbox, store, post };
}

async function customerWrites(w: Awaited<ReturnType<typeof emailWorkspace>>, tag: string) {
  const raw = [
    "From: Ada <ada@example.com>",
    "To: support@melodia.example, Bob <Bob@Example.com>",
    `Cc: carol@example.org, billing@melodia.example, reply+abc@reply.melodia.example, ada@example.com`,
    `Subject: Invoice {{ customer.traits.plan }} ${tag}`,
    `Message-ID: <${tag}@mail.example.com>`,
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Our invoice is wrong.",
    "",
  ].join("\r\n");
  const result = await ingestRawEmail(db, w.ws, Buffer.from(raw), { defaultCountry: "FR", store: w.store });
  if (result.kind !== "message") throw new Error(`the email was not stored: ${result.kind}`);
  return result.conversationId;
}

describe("an email reply's subject and copies", () => {
  it("keeps who else the customer wrote to, and sends the agent's subject and copies", async () => {
    const w = await emailWorkspace();
    const conversationId = await customerWrites(w, "cc1");
    // the inbound message names the people copied: not the customer, not the brand's own addresses
    const inbound = (await listMessages(db, w.ws, conversationId, { limit: 10 })).data[0];
    expect(inbound?.metadata?.cc).toEqual(["bob@example.com", "carol@example.org"]);

    const res = await w.post(conversationId, {
      text: "We fixed it.",
      subject: "Your corrected invoice",
      cc: ["Carol@Example.org", "dave@example.net", "carol@example.org", "ada@example.com"],
    });
    expect(res.statusCode).toBe(201);
    const sent = res.json() as { messageId: string; delivery: { deliveryId: string } };
    expect(await runDelivery(db, w.ws, sent.delivery.deliveryId)).toBe("sent");
    const mail = await mailContaining("We fixed it.");
    const raw = mail?.rawHeaders ?? "";
    expect(header(raw, "Subject")).toBe("Your corrected invoice");
    // the copies once each, lower case, without the customer (the recipient already)
    expect(header(raw, "Cc")).toBe("carol@example.org, dave@example.net");
    expect(header(raw, "To")).toBe("ada@example.com");
    expect([...(mail?.envelope.to ?? [])].sort()).toEqual([
      "ada@example.com",
      "carol@example.org",
      "dave@example.net",
    ]);
    // the message keeps what it went out with, for agents to see
    const outbound = (await listMessages(db, w.ws, conversationId, { limit: 10 })).data.find(
      (m) => m.id === sent.messageId,
    );
    expect(outbound?.metadata).toMatchObject({
      subject: "Your corrected invoice",
      cc: ["carol@example.org", "dave@example.net"],
    });
  });

  it("answers under Re: and the customer's subject, read as written (never as a template)", async () => {
    const w = await emailWorkspace();
    const conversationId = await customerWrites(w, "cc2");
    const res = await w.post(conversationId, { text: "Looking into it." });
    expect(res.statusCode).toBe(201);
    const sent = res.json() as { delivery: { deliveryId: string } };
    expect(await runDelivery(db, w.ws, sent.delivery.deliveryId)).toBe("sent");
    const mail = await mailContaining("Looking into it.");
    expect(header(mail?.rawHeaders ?? "", "Subject")).toBe("Re: Invoice {{ customer.traits.plan }} cc2");
    expect(header(mail?.rawHeaders ?? "", "Cc")).toBeUndefined();
  });

  it("refuses copies and subjects it cannot send, and stores nothing", async () => {
    const w = await emailWorkspace();
    const conversationId = await customerWrites(w, "cc3");
    await addSuppression(db, w.ws, { channel: "email", address: "gone@example.com", reason: "hard_bounce" });
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ text: "Hi", cc: ["not an address"] }, 400, "", /cc/],
      [{ text: "Hi", cc: "bob@example.com" }, 400, "", /cc/],
      [{ text: "Hi", cc: Array.from({ length: 21 }, (_, i) => `p${i}@example.com`) }, 400, "", /cc/],
      [{ text: "Hi", subject: "" }, 400, "", /subject/],
      [{ text: "Hi", subject: "Two\r\nBcc: eve@example.com" }, 400, "", /subject/],
      [{ text: "Hi", subject: "x".repeat(251) }, 400, "", /subject/],
      [
        { text: "Hi", cc: ["bob@example.com", "Gone@example.com"] },
        400,
        "conversations.cc_suppressed",
        /gone@example\.com cannot be copied: it is suppressed for email \(hard_bounce\)/,
      ],
      [
        { text: "A note", private: true, cc: ["bob@example.com"] },
        400,
        "conversations.invalid_reply",
        /only an email reply has a subject and copies; a private note/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await w.post(conversationId, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(status);
      const error = (res.json() as { error: { code: string; message: string } }).error;
      if (code) expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    // nothing was written: no outbound message, no delivery
    const messages = (await listMessages(db, w.ws, conversationId, { limit: 10 })).data;
    expect(messages.filter((m) => m.direction === "outbound")).toHaveLength(0);
    const [count] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${w.ws}`,
    );
    expect(count?.n).toBe(0);
  });

  it("refuses a subject or copies on a conversation that is not email", async () => {
    const w = await emailWorkspace();
    const sms = await createInbox(db, w.ws, { kind: "sms", name: "Line", address: "+15005550006" });
    const first = await receiveInbound(
      db,
      w.ws,
      {
        inboxId: sms.id,
        from: [{ kind: "phone", value: "+33612345678" }],
        contactAddress: "+33612345678",
        providerMessageId: "SM-cc-1",
        text: "Hello",
      },
      { defaultCountry: "FR" },
    );
    const res = await w.post(first.conversationId, { text: "Hi", subject: "Hello" });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({
      code: "conversations.invalid_reply",
      message: expect.stringMatching(/this conversation is on sms/),
    });
  });
});
