import { createHash } from "node:crypto";
import { type AddressObject, simpleParser } from "mailparser";
import { z } from "zod";
import { AppError } from "../../errors.ts";

/** The largest email taken in, by the listener and the HTTP endpoint alike. */
export const MAX_EMAIL_BYTES = 30 * 1024 * 1024;

export type ParsedAttachment = {
  filename: string;
  contentType: string;
  content: Buffer;
  /** The Content-ID (without brackets) an HTML part refers to as `cid:`. */
  cid: string | undefined;
  inline: boolean;
};

/** An email as the inbound path needs it: decoded, with raw (unsanitised) HTML. */
export type ParsedEmail = {
  /** The Message-ID in angle brackets, or one derived from the content when the mail has none. */
  messageId: string;
  hasOwnMessageId: boolean;
  inReplyTo: string[];
  references: string[];
  subject: string | undefined;
  from: { address: string; name: string } | undefined;
  /** To, Cc, Delivered-To and X-Original-To addresses, lower case, in that order. */
  recipients: string[];
  /** The To and Cc header addresses, lower case: who else the sender wrote to. */
  to: string[];
  cc: string[];
  text: string;
  html: string | undefined;
  attachments: ParsedAttachment[];
  contentType: { value: string; params: Record<string, string> };
  date: Date | undefined;
  /** The first value of a header, unfolded, as received (names any case). */
  header(name: string): string | undefined;
};

/** `<id@host>` for any spelling of a Message-ID (with or without brackets, spaces around). */
export function normalizeMessageId(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/^<|>$/g, "").trim();
  if (trimmed.length === 0 || trimmed.length > 995 || /[\s<>]/.test(trimmed)) return undefined;
  return `<${trimmed}>`;
}

function idList(value: string | string[] | undefined): string[] {
  const all = Array.isArray(value) ? value : value ? [value] : [];
  const out: string[] = [];
  for (const item of all) {
    for (const part of item.match(/<[^<>]*>|[^\s<>,]+/g) ?? []) {
      const id = normalizeMessageId(part);
      if (id && !out.includes(id)) out.push(id);
    }
  }
  return out;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const out: string[] = [];
  const walk = (list: Array<{ address?: string; group?: Array<{ address?: string }> }>) => {
    for (const a of list) {
      if (a.address) out.push(a.address.toLowerCase());
      if (a.group) walk(a.group);
    }
  };
  for (const obj of Array.isArray(value) ? value : value ? [value] : []) walk(obj.value);
  return out;
}

function bareAddresses(value: string | undefined): string[] {
  return (value ?? "").match(/[^\s<>,;"]+@[^\s<>,;"]+/g)?.map((a) => a.toLowerCase()) ?? [];
}

const StructuredHeader = z.object({
  value: z.string(),
  params: z.record(z.string(), z.string()).default({}),
});

function readContentType(value: unknown): { value: string; params: Record<string, string> } {
  const parsed = StructuredHeader.safeParse(value);
  if (!parsed.success) return { value: "text/plain", params: {} };
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.data.params)) params[k.toLowerCase()] = v;
  return { value: parsed.data.value.toLowerCase(), params };
}

/**
 * Parses raw MIME with mailparser: charsets decoded (ISO-8859-x, Windows-125x, Shift_JIS…),
 * transfer encodings undone, `cid:` links kept for inline images. Refuses more than 30 MB
 * with `conversations.email_too_large`; anything mailparser can read at all is accepted.
 */
export async function parseEmail(raw: Buffer): Promise<ParsedEmail> {
  if (raw.length > MAX_EMAIL_BYTES) {
    throw new AppError(
      "conversations.email_too_large",
      `An email may be at most ${MAX_EMAIL_BYTES / 1024 / 1024} MB; this one is ${(raw.length / 1024 / 1024).toFixed(1)} MB.`,
      { maxBytes: MAX_EMAIL_BYTES, size: raw.length },
    );
  }
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(raw, {
      keepCidLinks: true,
      skipTextLinks: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      // html-to-text on megabytes of HTML is slow; a text part is made only for what a person reads
      maxHtmlLengthToParse: 2 * 1024 * 1024,
    });
  } catch (err) {
    throw new AppError(
      "conversations.email_unparseable",
      `The email could not be parsed as MIME: ${String(err)}`,
    );
  }
  const headers = new Map<string, string>();
  for (const { key, line } of mail.headerLines) {
    if (headers.has(key)) continue;
    const colon = line.indexOf(":");
    headers.set(
      key,
      line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, " ")
        .trim(),
    );
  }
  const ownId = mail.messageId ? normalizeMessageId(mail.messageId) : undefined;
  const sender = mail.from?.value.find((a) => a.address);
  const ct = readContentType(mail.headers.get("content-type"));
  const recipients = [
    ...addresses(mail.to),
    ...addresses(mail.cc),
    ...bareAddresses(headers.get("delivered-to")),
    ...bareAddresses(headers.get("x-original-to")),
  ];
  return {
    messageId:
      ownId ??
      `<${createHash("sha256").update(raw).digest("hex").slice(0, 32)}@no-message-id.rapport.invalid>`,
    hasOwnMessageId: ownId !== undefined,
    inReplyTo: idList(mail.inReplyTo),
    references: idList(mail.references),
    subject: mail.subject,
    from: sender?.address ? { address: sender.address, name: sender.name ?? "" } : undefined,
    recipients: [...new Set(recipients)],
    to: [...new Set(addresses(mail.to))],
    cc: [...new Set(addresses(mail.cc))],
    text: mail.text ?? "",
    html: typeof mail.html === "string" ? mail.html : undefined,
    attachments: mail.attachments.map((a) => ({
      filename: a.filename ?? "attachment",
      contentType: a.contentType || "application/octet-stream",
      content: a.content,
      cid: a.cid ?? undefined,
      inline: a.contentDisposition === "inline" || a.related === true,
    })),
    contentType: ct,
    date: mail.date,
    header: (name) => headers.get(name.toLowerCase()),
  };
}
