import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestRawEmail } from "../src/channels/email/ingest.ts";
import { localAttachmentStore } from "../src/conversations/attachments.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { replyToConversation } from "../src/conversations/replies.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports } from "../src/delivery/providers/smtp.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { emailThroughFakeSmtp, type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";

let db: Db;
let smtp: FakeSmtp;
beforeAll(async () => {
  db = (await testDatabase()).db;
  smtp = await startFakeSmtp();
});
afterAll(async () => {
  closeSmtpTransports();
  await smtp.close();
});

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(raw)?.[1]?.replace(/\r?\n[ \t]+/g, " ");

describe("an agent's email reply", () => {
  it("threads in the customer's mail client, quotes their words as they wrote them, and their answer comes back to it", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await emailThroughFakeSmtp(db, ws, smtp);
    const inbox = await createInbox(db, ws, {
      kind: "email",
      name: "Support",
      address: "support@melodia.example",
    });
    const first = await receiveInbound(
      db,
      ws,
      {
        inboxId: inbox.id,
        from: [{ kind: "email", value: "ada@example.com" }],
        contactAddress: "ada@example.com",
        providerMessageId: "<abc123@mail.gmail.com>",
        subject: "Playlist gone",
        threadKey: "<root@mail.gmail.com>",
        // braces a template engine would read: the quote must keep them as written
        text: "Where did my {{ playlist }} go?\n{% if %} it was here",
        metadata: {
          messageId: "<abc123@mail.gmail.com>",
          references: ["<root@mail.gmail.com>"],
          from: { address: "ada@example.com", name: "Ada" },
        },
      },
      { defaultCountry: "FR" },
    );
    const reply = await replyToConversation(
      db,
      ws,
      first.conversationId,
      null,
      { text: "It is back, Ada. Your {{ playlist }} is where you left it." },
      {
        publicUrl: "https://rapport.example",
      },
    );
    const deliveryId = reply.delivery?.deliveryId ?? "";
    expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
    const [mail] = await smtp.waitFor(1);
    const raw = mail?.rawHeaders ?? "";
    expect(header(raw, "Subject")).toBe("Re: Playlist gone");
    expect(header(raw, "In-Reply-To")).toBe("<abc123@mail.gmail.com>");
    expect(header(raw, "References")).toBe("<root@mail.gmail.com> <abc123@mail.gmail.com>");
    // the agent's words go out as written too
    expect(mail?.text).toContain("It is back, Ada. Your {{ playlist }} is where you left it.");
    expect(mail?.text).toContain("Ada <ada@example.com> wrote:");
    expect(mail?.text).toContain("> Where did my {{ playlist }} go?\n> {% if %} it was here");

    // the customer answers the agent's email: it lands in the same conversation
    const sentId = (await getDelivery(db, ws, deliveryId)).providerMessageId ?? "";
    const answer = [
      "From: Ada <ada@example.com>",
      "To: support@melodia.example",
      "Subject: Re: Re: Playlist gone",
      "Message-ID: <def456@mail.gmail.com>",
      `In-Reply-To: ${sentId}`,
      `References: <root@mail.gmail.com> <abc123@mail.gmail.com> ${sentId}`,
      "Date: Tue, 24 Nov 2026 10:00:00 +0000",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Thank you!",
      "",
    ].join("\r\n");
    const store = localAttachmentStore(mkdtempSync(join(tmpdir(), "rapport-reply-")));
    const result = await ingestRawEmail(db, ws, Buffer.from(answer), { defaultCountry: "FR", store });
    expect(result).toMatchObject({ kind: "message", conversationId: first.conversationId });
  });
});
