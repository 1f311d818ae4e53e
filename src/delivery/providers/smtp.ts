import { createHash } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool";
import { z } from "zod";
import { loadConfig } from "../../config.ts";
import { type AttachmentStore, attachmentStoreFor } from "../../conversations/attachments.ts";
import type { OutboundMessage, Provider, SendResult } from "./types.ts";

type Failure = Extract<SendResult, { ok: false }>;

const FROM_PATTERN = /^\s*(?:"?([^"<>]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/;

/** `Brand <news@brand.example>` or a bare address → its parts; undefined when neither. */
export function parseFrom(from: string): { name: string; address: string } | undefined {
  const m = FROM_PATTERN.exec(from);
  const address = m ? m[2] : from.trim();
  if (!address || !z.email().safeParse(address).success) return undefined;
  return { name: m?.[1]?.trim() ?? "", address };
}

export const SmtpConfig = z
  .object({
    host: z.string().trim().min(1, "is required"),
    port: z.number().int().min(1).max(65535),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    from: z
      .string()
      .refine((v) => parseFrom(v) !== undefined, 'must be an address, e.g. "Brand <news@brand.example>"'),
    replyTo: z.email().optional(),
    timeoutMs: z.number().int().min(100).max(300_000).optional(),
  })
  .refine((c) => (c.user === undefined) === (c.password === undefined), {
    message: "give user and password together, or neither",
    path: ["password"],
  });
export type SmtpConfig = z.infer<typeof SmtpConfig>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** `<first 32 hex of sha256(key)@domain>`: a retried message carries the same Message-ID. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = parseFrom(from)?.address.split("@")[1] ?? "localhost";
  return `<${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}@${domain}>`;
}

// one pool per distinct setting: connections are reused across messages and workspaces
// that share a server; an evicted pool finishes its messages, then closes
const transports = new Map<string, Transporter<SMTPPool.SentMessageInfo>>();
const MAX_TRANSPORTS = 100;

function transportFor(config: SmtpConfig): Transporter<SMTPPool.SentMessageInfo> {
  const key = createHash("sha256")
    .update(JSON.stringify(Object.entries(config).sort()))
    .digest("hex");
  const hit = transports.get(key);
  if (hit) return hit;
  const timeout = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: config.host,
    port: config.port,
    secure: config.secure ?? config.port === 465,
    ...(config.user !== undefined ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
  });
  transports.set(key, transport);
  if (transports.size > MAX_TRANSPORTS) {
    const oldest = transports.entries().next();
    if (!oldest.done) {
      transports.delete(oldest.value[0]);
      oldest.value[1].close();
    }
  }
  return transport;
}

/** Closes every pooled SMTP connection (at shutdown, and between tests). */
export function closeSmtpTransports(): void {
  for (const t of transports.values()) t.close();
  transports.clear();
}

const NodemailerError = z.object({
  message: z.string(),
  code: z.string().optional(),
  responseCode: z.number().optional(),
  response: z.string().optional(),
});

// errors nodemailer raises before or without a server reply that no retry can fix
const PERMANENT_CODES = new Set(["EENVELOPE", "EMESSAGE", "EAUTH", "ENOAUTH", "EOAUTH2", "ECONFIG"]);

/**
 * An SMTP failure as a send result: a 4xx reply or a broken, refused or silent connection
 * may pass later (retryable); a 5xx reply (550 mailbox unavailable) will not.
 */
export function classifySmtpError(err: unknown): Failure {
  const parsed = NodemailerError.safeParse(err);
  if (!parsed.success) return { ok: false, retryable: true, reason: `smtp: ${String(err)}` };
  const { message, code, responseCode, response } = parsed.data;
  const reply = (response ?? `${responseCode} ${message}`).replace(/\s+/g, " ").trim().slice(0, 500);
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) {
    return { ok: false, retryable: true, reason: reply };
  }
  if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
    return { ok: false, retryable: false, reason: reply };
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    return { ok: false, retryable: false, reason: `smtp ${code}: ${message}` };
  }
  return { ok: false, retryable: true, reason: `network: ${message}` };
}

// set by the provider itself; a content header by these names would forge or break the message
const RESERVED_HEADERS = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "message-id",
  "date",
  "reply-to",
  "sender",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
]);

function headerProblem(name: string, value: string): string | undefined {
  if (!/^[!-9;-~]+$/.test(name)) return `header name "${name}" is not a valid field name`;
  if (RESERVED_HEADERS.has(name.toLowerCase())) return `header "${name}" is set by the provider`;
  if (/[\r\n]/.test(value)) return `header "${name}" contains a line break`;
  return undefined;
}

type Outcome = { sent: SMTPPool.SentMessageInfo } | { failed: Failure };

/** Waits for the send, the attempt's deadline or the caller's abort, whichever comes first. */
function race(sending: Promise<SMTPPool.SentMessageInfo>, signal: AbortSignal, timeoutMs: number) {
  return new Promise<Outcome>((resolve) => {
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () =>
      done({ failed: { ok: false, retryable: true, reason: "aborted: the attempt was cancelled" } });
    const timer = setTimeout(
      () => done({ failed: { ok: false, retryable: true, reason: `timeout: no answer in ${timeoutMs} ms` } }),
      timeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    sending.then(
      (sent) => done({ sent }),
      (err: unknown) => done({ failed: classifySmtpError(err) }),
    );
  });
}

/**
 * Sends email over SMTP through one pooled nodemailer transport per setting. The Message-ID
 * comes from the idempotency key (also returned as the provider's message id), and the
 * content's headers (List-Unsubscribe…) reach the wire exactly as given; a content
 * `Reply-To` replaces the configured one for that message.
 */
export function createSmtpProvider(config: SmtpConfig, opts: { files?: AttachmentStore } = {}): Provider {
  const from = parseFrom(config.from);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    kind: "smtp",
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
      if (signal.aborted) return { ok: false, retryable: true, reason: "aborted: the attempt was cancelled" };
      if (!from)
        return { ok: false, retryable: false, reason: `smtp: the from address "${config.from}" is invalid` };
      if (!z.email().safeParse(message.to).success) {
        return { ok: false, retryable: false, reason: `"${message.to}" is not an email address` };
      }
      const { content } = message;
      if (!content.subject) return { ok: false, retryable: false, reason: "an email needs a subject" };
      const headers: Record<string, { prepared: boolean; value: string }> = {};
      // threading headers are nodemailer's own options (it would rewrite them as plain headers)
      const thread: { inReplyTo?: string; references?: string } = {};
      let replyTo = config.replyTo;
      for (const [name, value] of Object.entries(content.headers ?? {})) {
        const lower = name.toLowerCase();
        if (lower === "reply-to") {
          // the message's own answer address (a conversation's reply+ address) wins over the setting
          const address = value.trim();
          if (!z.email().safeParse(address).success) {
            return {
              ok: false,
              retryable: false,
              reason: `Reply-To "${value.slice(0, 100)}" is not an email address`,
            };
          }
          replyTo = address;
          continue;
        }
        const problem = headerProblem(name, value);
        if (problem) return { ok: false, retryable: false, reason: problem };
        if (lower === "in-reply-to" || lower === "references") {
          thread[lower === "in-reply-to" ? "inReplyTo" : "references"] = value;
          continue;
        }
        // prepared: nodemailer neither folds nor encodes it, so the value arrives byte for byte;
        // only a value that is already a legal header line (ASCII, under 998 octets) can be
        headers[name] = { prepared: /^[\x20-\x7e\t]{0,900}$/.test(value), value };
      }
      const cc = content.cc ?? [];
      const badCc = cc.find((a) => !z.email().safeParse(a).success);
      if (badCc !== undefined) {
        return { ok: false, retryable: false, reason: `Cc "${badCc.slice(0, 100)}" is not an email address` };
      }
      const files = await attachmentsOf(message, opts.files);
      if ("failed" in files) return files.failed;
      const messageId = messageIdFor(message.idempotencyKey, config.from);
      const sending = transportFor(config).sendMail({
        from: config.from,
        to: message.to,
        ...(replyTo ? { replyTo } : {}),
        ...(cc.length > 0 ? { cc } : {}),
        subject: content.subject,
        text: content.text,
        ...(content.html !== undefined ? { html: content.html } : {}),
        messageId,
        ...thread,
        headers,
        ...(files.list.length > 0 ? { attachments: files.list } : {}),
      });
      // a send that loses the race still settles later; its outcome no longer matters
      sending.catch(() => {});
      const outcome = await race(sending, signal, timeoutMs);
      if ("failed" in outcome) return outcome.failed;
      if (outcome.sent.accepted.length === 0) {
        return { ok: false, retryable: false, reason: `not accepted: ${outcome.sent.response}` };
      }
      return { ok: true, providerMessageId: messageId, state: "sent" };
    },
  };
}

/**
 * The message's attachments, read from the attachment store (the data folder's, unless one is
 * given). A file gone from the store fails the message for good: no retry brings it back.
 */
async function attachmentsOf(
  message: OutboundMessage,
  store: AttachmentStore | undefined,
): Promise<
  { list: Array<{ filename: string; content: Buffer; contentType: string }> } | { failed: Failure }
> {
  const refs = message.content.attachments ?? [];
  if (refs.length === 0) return { list: [] };
  const files = store ?? attachmentStoreFor(loadConfig().dataDir);
  const list: Array<{ filename: string; content: Buffer; contentType: string }> = [];
  for (const ref of refs) {
    const file = await files.get(message.workspaceId, ref.key);
    if (!file) {
      return {
        failed: { ok: false, retryable: false, reason: `attachment "${ref.name}" is no longer stored` },
      };
    }
    list.push({ filename: ref.name, content: file.data, contentType: ref.contentType });
  }
  return { list };
}
