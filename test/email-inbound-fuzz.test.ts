import fc from "fast-check";
import type { Transporter } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestRawEmail } from "../src/channels/email/ingest.ts";
import type { SmtpListener } from "../src/channels/email/smtp-listener.ts";
import type { AttachmentStore } from "../src/conversations/attachments.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { conversationsIn, emailInbox, startTestListener } from "./support/email-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
let store: AttachmentStore;
let listener: SmtpListener;
let client: Transporter;

beforeAll(async () => {
  const database = await testDatabase();
  db = database.db;
  const mail = await startTestListener(database);
  listener = mail.listener;
  client = mail.client;
  store = mail.store;
});
afterAll(async () => {
  client?.close();
  await listener?.close();
});

const junk = fc.string({ unit: "binary", maxLength: 200 });
const charset = fc.constantFrom(
  "utf-8",
  "iso-8859-1",
  "windows-1252",
  "shift_jis",
  "x-nonsense",
  "",
  "utf-7",
  "gb2312",
);
const encoding = fc.constantFrom("base64", "quoted-printable", "7bit", "8bit", "x-uuencode", "binary", "b@d");
const boundary = fc.stringMatching(/^[A-Za-z0-9'()+_,./:=? -]{0,80}$/);

/** A MIME part whose headers and body may be broken in every way a real client gets wrong. */
const part = fc.record({
  type: fc.constantFrom(
    "text/plain",
    "text/html",
    "application/octet-stream",
    "image/png",
    "message/rfc822",
    "multipart/mixed",
  ),
  charset,
  encoding,
  body: fc.oneof(
    junk,
    fc.constantFrom(
      "=ZZ=\n=",
      "!!!not base64===",
      "<script>alert(1)</script><img onerror=x>",
      "=?utf-8?B?////?=",
    ),
  ),
});

/** A random, often malformed message addressed to `to`. */
function randomMime(to: string) {
  return fc
    .record({
      outer: boundary,
      used: fc.oneof(boundary, fc.constant(null)),
      parts: fc.array(part, { maxLength: 4 }),
      closing: fc.boolean(),
      hugeHeader: fc.nat({ max: 200_000 }),
      extraHeaders: fc.array(fc.tuple(fc.stringMatching(/^[!-9;-~]{0,30}$/), junk), { maxLength: 6 }),
      from: fc.oneof(fc.constant("Fuzz <fuzz@mail.example>"), junk, fc.constant("")),
      prefix: fc.oneof(fc.constant(""), junk),
      lineEnd: fc.constantFrom("\r\n", "\n", "\r"),
    })
    .map((m) => {
      const nl = m.lineEnd;
      const used = m.used ?? m.outer;
      const headers = [
        m.prefix,
        `From: ${m.from}`,
        `To: ${to}`,
        `Subject: fuzz =?utf-8?Q?=E2=80=ZZ?= ${uuidv7()}`,
        `Message-ID: <${uuidv7()}@fuzz.example>`,
        ...m.extraHeaders.map(([k, v]) => `${k}: ${v}`),
        `X-Huge: ${"h".repeat(m.hugeHeader)}`,
        "MIME-Version: 1.0",
        `Content-Type: multipart/mixed; boundary="${m.outer}"`,
      ];
      const parts = m.parts.map(
        (p) =>
          `--${used}${nl}Content-Type: ${p.type}; charset="${p.charset}"${nl}Content-Transfer-Encoding: ${p.encoding}${nl}${nl}${p.body}${nl}`,
      );
      return Buffer.from(
        `${headers.join(nl)}${nl}${nl}${parts.join("")}${m.closing ? `--${used}--${nl}` : ""}`,
        "latin1",
      );
    });
}

function goodMail(to: string, id: string): Buffer {
  return Buffer.from(
    `From: Steady Customer <steady@mail.example>\r\nTo: ${to}\r\nSubject: still here ${id}\r\nMessage-ID: <${id}@mail.example>\r\n\r\nA well-formed message.\r\n`,
  );
}

describe("inbound email fuzz", () => {
  it("random MIME through ingestRawEmail either lands or is refused with a clear AppError", async () => {
    const { workspace } = await createTestWorkspace();
    const address = `fuzz-${uuidv7().slice(-12)}@melodia.example`;
    await emailInbox(db, workspace.id, address);
    await fc.assert(
      fc.asyncProperty(randomMime(address), async (raw) => {
        const outcome = await ingestRawEmail(db, workspace.id, raw, { defaultCountry: "US", store }).then(
          (r) => r.kind,
          (err: unknown) => (isAppError(err) ? err.code : err),
        );
        expect(typeof outcome === "string" ? outcome : String(outcome)).toMatch(
          /^(message|bounce|dropped|conversations\.\w+|profiles\.invalid_email)$/,
        );
      }),
      { numRuns: 100 },
    );
  });

  it("random MIME through the listener never crashes it, and the good mail after each bad one is stored", async () => {
    const { workspace } = await createTestWorkspace();
    const address = `fuzz-${uuidv7().slice(-12)}@melodia.example`;
    await emailInbox(db, workspace.id, address);
    let good = 0;
    await fc.assert(
      fc.asyncProperty(randomMime(address), async (raw) => {
        const answer = await client
          .sendMail({ envelope: { from: "fuzz@mail.example", to: [address] }, raw })
          .then(
            () => 250,
            (err: unknown) =>
              typeof err === "object" && err !== null && "responseCode" in err
                ? Number(err.responseCode)
                : String(err),
          );
        // accepted, or refused for the message's own fault: never a dropped connection or a retry-later
        expect(answer === 250 || (typeof answer === "number" && answer >= 550 && answer < 560)).toBe(true);
        good += 1;
        await client.sendMail({
          envelope: { from: "steady@mail.example", to: [address] },
          raw: goodMail(address, `good-${good}-${uuidv7()}`),
        });
      }),
      { numRuns: 100 },
    );
    const subjects = (await conversationsIn(db, workspace.id)).map((c) => c.subject ?? "");
    expect(subjects.filter((s) => s.startsWith("still here good-"))).toHaveLength(good);
  }, 180_000);
});
