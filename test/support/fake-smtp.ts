import { type HeaderLines, type Headers, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import { getMessagingSettings } from "../../src/consent/settings.ts";
import type { Db } from "../../src/db/client.ts";
import { setProvider } from "../../src/delivery/deliveries.ts";

/** One message as the fake server received it. */
export type ReceivedMail = {
  envelope: { from: string; to: string[] };
  /** The header section exactly as it came over the wire (folded lines included). */
  rawHeaders: string;
  headerLines: HeaderLines;
  headers: Headers;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  messageId: string | undefined;
  raw: string;
};

type Failure = { code: number; text: string; stage: "rcpt" | "data" };

export type FakeSmtp = {
  host: string;
  port: number;
  received: ReceivedMail[];
  /** Answers the next `count` messages with this SMTP reply at RCPT TO (default) or after DATA. */
  failNext(count: number, code: number, text: string, stage?: "rcpt" | "data"): void;
  /** Never answers MAIL FROM for the next `count` messages, so the client times out. */
  hangNext(count: number): void;
  /** Resolves once `count` messages have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
};

function replyError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * A local SMTP server on a random port that parses every message with mailparser and keeps
 * what it got, and can be told to refuse (4xx/5xx) or hang, to test the SMTP provider.
 */
export async function startFakeSmtp(): Promise<FakeSmtp> {
  const received: ReceivedMail[] = [];
  const failures: Failure[] = [];
  let hangs = 0;
  const waiters: Array<() => void> = [];
  const sessionFailures = new WeakMap<SMTPServerSession, Failure>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // a hung connection must not hold close() for smtp-server's default 30 s
    closeTimeout: 200,
    onAuth(_auth, _session, callback) {
      callback(null, { user: "test" });
    },
    onMailFrom(_address, session, callback) {
      if (hangs > 0) {
        hangs -= 1;
        return;
      }
      // one session carries every message of a pooled connection: forget the last one's failure
      const failure = failures.shift();
      if (failure) sessionFailures.set(session, failure);
      else sessionFailures.delete(session);
      callback();
    },
    onRcptTo(_address, session, callback) {
      const failure = sessionFailures.get(session);
      if (failure?.stage === "rcpt") return callback(replyError(failure.code, failure.text));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const failure = sessionFailures.get(session);
        sessionFailures.delete(session);
        if (failure?.stage === "data") return callback(replyError(failure.code, failure.text));
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw).then(
          (mail) => {
            const end = raw.search(/\r?\n\r?\n/);
            received.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              rawHeaders: end >= 0 ? raw.slice(0, end) : raw,
              headerLines: mail.headerLines,
              headers: mail.headers,
              subject: mail.subject,
              text: mail.text,
              html: mail.html === false ? undefined : mail.html,
              messageId: mail.messageId,
              raw,
            });
            for (const wake of waiters.splice(0)) wake();
            callback();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("fake SMTP has no TCP port");
  const { port } = address;

  return {
    host: "127.0.0.1",
    port,
    received,
    failNext(count, code, text, stage = "rcpt") {
      for (let i = 0; i < count; i++) failures.push({ code, text, stage });
    },
    hangNext(count) {
      hangs += count;
    },
    waitFor(count, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`fake SMTP got ${received.length} of ${count} messages in ${timeoutMs} ms`)),
          timeoutMs,
        );
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received.slice(0, count));
          } else waiters.push(check);
        };
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Makes the workspace send its email through this fake server, from Melodia's support
 * address (its messaging settings made first, as a real workspace has them).
 */
export async function emailThroughFakeSmtp(
  db: Db,
  workspaceId: string,
  smtp: FakeSmtp,
  more: Record<string, unknown> = {},
): Promise<void> {
  await getMessagingSettings(db, workspaceId);
  await setProvider(db, workspaceId, "email", "smtp", {
    host: smtp.host,
    port: smtp.port,
    secure: false,
    from: "Melodia <support@melodia.example>",
    timeoutMs: 5000,
    ...more,
  });
}
