import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAppError } from "../../errors.ts";
import { MAX_EMAIL_BYTES, normalizeMessageId, parseEmail } from "./parse.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/email/${name}`, import.meta.url));

describe("parseEmail", () => {
  it("decodes ISO-8859-1 quoted-printable bodies and encoded-word headers", async () => {
    const mail = await parseEmail(fixture("08-iso-8859-1-qp.eml"));
    expect(mail.subject).toBe("Flûte traversère commandée");
    expect(mail.from).toEqual({ address: "francoise@orange.example", name: "Françoise Dupré" });
    expect(mail.text).toContain("J'ai commandé une flûte traversière; le reçu indique « payé »");
    expect(mail.text).toContain("Café crème et élève: à bientôt.");
  });

  it("decodes Windows-1252 (curly quotes, euro, ellipsis), not ISO-8859-1", async () => {
    const mail = await parseEmail(fixture("09-windows-1252-qp.eml"));
    expect(mail.subject).toBe("Overcharged € on “Deluxe” strings");
    expect(mail.text).toContain(
      "The “Deluxe” strings cost €29 — I was charged €39… Could you refund the €10?",
    );
  });

  it("decodes Shift_JIS in base64 bodies and B-encoded headers", async () => {
    const mail = await parseEmail(fixture("10-shift-jis-base64.eml"));
    expect(mail.subject).toBe("ギターの配送について");
    expect(mail.from?.name).toBe("山田太郎");
    expect(mail.text).toContain("注文したギターがまだ届いていません。");
  });

  it("reads thread headers, recipients and the content type", async () => {
    const mail = await parseEmail(fixture("02-gmail-reply.eml"));
    expect(mail.messageId).toBe("<CAF=k7QZ8dKq4rT2mW1@mail.gmail.example>");
    expect(mail.inReplyTo).toEqual(["<0190aa11-agent-reply-1@melodia.example>"]);
    expect(mail.references).toEqual([
      "<CAF=k7QX3pZ0Hn1y9sQ@mail.gmail.example>",
      "<0190aa11-agent-reply-1@melodia.example>",
    ]);
    expect(mail.recipients).toEqual(["support@melodia.example"]);
    expect(mail.contentType.value).toBe("multipart/alternative");
    expect(mail.html).toContain('class="gmail_quote"');
    expect(mail.header("Delivered-To")).toBe("support@melodia.example");
  });

  it("keeps an attachment and an inline image with its Content-ID and cid: link", async () => {
    const pdf = await parseEmail(fixture("06-attachment-pdf.eml"));
    expect(pdf.attachments).toHaveLength(1);
    expect(pdf.attachments[0]).toMatchObject({
      filename: "invoice-2025-031.pdf",
      contentType: "application/pdf",
      inline: false,
    });
    expect(pdf.attachments[0]?.content.subarray(0, 8).toString()).toBe("%PDF-1.4");
    const inline = await parseEmail(fixture("07-inline-image.eml"));
    expect(inline.attachments[0]).toMatchObject({
      cid: "scratch-photo@fastmail.example",
      inline: true,
      contentType: "image/png",
    });
    expect(inline.html).toContain('src="cid:scratch-photo@fastmail.example"');
  });

  it("reads a malformed multipart and a huge header section without failing", async () => {
    const broken = await parseEmail(fixture("16-malformed-boundary.eml"));
    expect(broken.text).toContain("My tuner broke after one day — can I get a replacement?");
    const huge = await parseEmail(fixture("15-huge-header.eml"));
    expect(huge.subject).toBe("Question about drum lessons");
    expect(huge.text).toContain("drum lessons");
  });

  it("derives a stable Message-ID for a mail without one", async () => {
    const raw = Buffer.from("From: a@b.example\r\nTo: c@d.example\r\nSubject: x\r\n\r\nbody\r\n");
    const a = await parseEmail(raw);
    const b = await parseEmail(Buffer.from(raw));
    expect(a.hasOwnMessageId).toBe(false);
    expect(a.messageId).toMatch(/^<[0-9a-f]{32}@no-message-id\.rapport\.invalid>$/);
    expect(b.messageId).toBe(a.messageId);
  });

  it("refuses more than 30 MB with a clear error", async () => {
    const raw = Buffer.alloc(MAX_EMAIL_BYTES + 1, 0x61);
    const err = await parseEmail(raw).catch((e: unknown) => e);
    expect(isAppError(err, "conversations.email_too_large")).toBe(true);
  });

  it("normalises Message-ID spellings", () => {
    expect(normalizeMessageId(" abc@x ")).toBe("<abc@x>");
    expect(normalizeMessageId("<abc@x>")).toBe("<abc@x>");
    expect(normalizeMessageId("<>")).toBeUndefined();
    expect(normalizeMessageId("a b@x")).toBeUndefined();
  });
});
