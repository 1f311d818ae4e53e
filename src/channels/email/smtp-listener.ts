import type { Logger } from "pino";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { Config } from "../../config.ts";
import { type AttachmentStore, attachmentStoreFor } from "../../conversations/attachments.ts";
import type { Database } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import { ingestRawEmail } from "./ingest.ts";
import { MAX_EMAIL_BYTES } from "./parse.ts";

export type SmtpListenerOptions = {
  database: Database;
  config: Pick<Config, "defaultCountry" | "dataDir">;
  logger: Logger;
  /** 0 picks a free port (tests). */
  port: number;
  host: string;
  /** A certificate turns STARTTLS on; without one the listener speaks plain SMTP (behind an MX relay). */
  tls?: { key: string | Buffer; cert: string | Buffer } | undefined;
  store?: AttachmentStore | undefined;
  /** Milliseconds a closing listener waits for open connections (smtp-server's default is 30 s). */
  closeTimeoutMs?: number | undefined;
};

export type SmtpListener = { port: number; close(): Promise<void> };

type SmtpReplyError = Error & { responseCode: number };

function reply(code: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode: code });
}

// what an SMTP client is told when Rapport refuses a message it read whole
const REFUSALS: Record<string, number> = {
  "conversations.email_too_large": 552,
  "conversations.email_unroutable": 550,
  "conversations.email_unparseable": 554,
  "conversations.email_no_sender": 554,
  "conversations.invalid_sender": 554,
  "profiles.invalid_email": 554,
};

/** The SMTP answer to a failed ingest: 5xx for the message's own faults, 451 (try later) for ours. */
export function smtpReplyFor(err: unknown): SmtpReplyError {
  if (isAppError(err)) {
    const code = REFUSALS[err.code] ?? 554;
    return reply(code, `${code === 552 ? "5.3.4" : "5.6.0"} ${err.message}`.replace(/[\r\n]+/g, " "));
  }
  return reply(451, "4.3.0 Temporary failure storing the message; please try again later");
}

/**
 * Starts the inbound SMTP listener: every accepted message goes through `ingestRawEmail`.
 * No AUTH (it receives mail, like an MX), a 30 MB limit announced with SIZE and enforced
 * during DATA with 552, and no message, however broken, can stop it: a failure is an SMTP
 * reply to that message only.
 */
export async function startSmtpListener(opts: SmtpListenerOptions): Promise<SmtpListener> {
  const { database, logger } = opts;
  const store = opts.store ?? attachmentStoreFor(opts.config.dataDir);
  const server = new SMTPServer({
    name: "rapport",
    banner: "Rapport inbound mail",
    size: MAX_EMAIL_BYTES,
    authOptional: true,
    disabledCommands: opts.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    logger: false,
    closeTimeout: opts.closeTimeoutMs ?? 5_000,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        // past the limit the rest is read and thrown away, so the client hears 552, not a reset
        if (size <= MAX_EMAIL_BYTES) chunks.push(chunk);
      });
      stream.on("error", (err: Error) => {
        logger.warn({ err }, "inbound SMTP: the message stream failed");
        callback(reply(451, "4.3.0 The message could not be read"));
      });
      stream.on("end", () => {
        if (stream.sizeExceeded || size > MAX_EMAIL_BYTES) {
          callback(reply(552, `5.3.4 Message too big: the limit is ${MAX_EMAIL_BYTES} bytes`));
          return;
        }
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        ingestRawEmail(database.db, undefined, Buffer.concat(chunks), {
          envelope,
          defaultCountry: opts.config.defaultCountry,
          store,
          logger,
        }).then(
          (result) => {
            logger.info({ kind: result.kind, rcpt: envelope.to }, "inbound SMTP: message taken in");
            callback();
          },
          (err: unknown) => {
            const answer = smtpReplyFor(err);
            if (answer.responseCode >= 500)
              logger.info({ err, rcpt: envelope.to }, "inbound SMTP: message refused");
            else logger.error({ err, rcpt: envelope.to }, "inbound SMTP: message could not be stored");
            callback(answer);
          },
        );
      });
    },
  });
  server.on("error", (err: Error) => logger.warn({ err }, "inbound SMTP: connection error"));
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("the SMTP listener has no TCP port");
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
