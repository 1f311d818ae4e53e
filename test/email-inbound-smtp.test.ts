import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import type { Transporter } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EMAIL_BYTES } from "../src/channels/email/parse.ts";
import type { SmtpListener } from "../src/channels/email/smtp-listener.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { uuidv7 } from "../src/ids.ts";
import {
  conversationsIn,
  deliveryState,
  emailInbox,
  emlFixture,
  knownCustomer,
  messagesOf,
  sentEmail,
  startTestListener,
  suppressed,
} from "./support/email-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
let listener: SmtpListener;
let client: Transporter;

beforeAll(async () => {
  const database = await testDatabase();
  db = database.db;
  const mail = await startTestListener(database);
  listener = mail.listener;
  client = mail.client;
});
afterAll(async () => {
  client?.close();
  await listener?.close();
});

/** A workspace with an email inbox at an address no other test uses (the listener routes across workspaces). */
async function setup() {
  const { workspace } = await createTestWorkspace();
  const address = `support-${uuidv7().slice(-12)}@melodia.example`;
  const inbox = await emailInbox(db, workspace.id, address);
  return { ws: workspace.id, inbox, address };
}

function send(raw: Buffer, to: string[], from = "sender@mail.example") {
  return client.sendMail({ envelope: { from, to }, raw });
}

async function refusal(sending: Promise<unknown>): Promise<number | undefined> {
  const err = await sending.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (
    typeof err === "object" &&
    err !== null &&
    "responseCode" in err &&
    typeof err.responseCode === "number"
  )
    return err.responseCode;
  return undefined;
}

describe("SMTP listener", () => {
  it("new mail → customer by email (profile reused) → conversation; a reply joins it", async () => {
    const { ws, address, inbox } = await setup();
    const ada = await knownCustomer(db, ws, "ada.lovelace@gmail.example");
    const swap = { "support@melodia.example": address };
    await send(emlFixture("01-gmail-new-alternative.eml", swap), [address]);
    await send(emlFixture("02-gmail-reply.eml", swap), [address]);
    const conversations = await conversationsIn(db, ws);
    expect(conversations).toHaveLength(1);
    expect(conversations[0]?.customerId).toBe(ada);
    const messages = await messagesOf(db, ws, conversations[0]?.id ?? "");
    expect(messages.map((m) => m.metadata.threadedBy)).toEqual(["new", "references"]);
    expect(messages[1]?.text).toContain("Thank you, the new tracking number works.");
    // routed by the envelope: RCPT TO decides even when the To header names someone else
    await send(
      emlFixture("05-apple-mail-first.eml", {
        "To: support@melodia.example": "To: friends@elsewhere.example",
      }),
      [address],
    );
    const all = await conversationsIn(db, ws);
    expect(all).toHaveLength(2);
    expect(inbox.address).toBe(address);
  });

  it("a reply to an email Rapport sent lands with that customer, though written to a non-inbox address", async () => {
    const { ws } = await setup();
    const bjorn = await knownCustomer(db, ws, "bjorn.muller@outlook.example");
    const sentId = `<${uuidv7().replace(/-/g, "")}@melodia.example>`;
    await sentEmail(db, ws, bjorn, "bjorn.muller@outlook.example", sentId);
    await send(
      emlFixture("03-outlook-reply-to-broadcast.eml", {
        "<5f1e3c9a0b7d4e2f8a6c1b3d5e7f9a0b@melodia.example>": sentId,
      }),
      ["news@melodia.example"],
    );
    const [conversation] = await conversationsIn(db, ws);
    expect(conversation).toMatchObject({ customerId: bjorn, threadKey: sentId });
  });

  it("subject fallback and auto-replies: an out-of-office does not reopen", async () => {
    const { ws, address } = await setup();
    const swap = { "support@melodia.example": address };
    await send(emlFixture("01-gmail-new-alternative.eml", swap), [address]);
    await send(emlFixture("17-subject-fallback.eml", swap), [address]);
    const [conversation] = await conversationsIn(db, ws);
    await db.execute(
      sql`UPDATE conversations SET status = 'resolved' WHERE workspace_id = ${ws} AND id = ${conversation?.id}`,
    );
    await send(emlFixture("11-out-of-office.eml", swap), [address]);
    const after = await conversationsIn(db, ws);
    expect(after).toHaveLength(1);
    expect(after[0]?.status).toBe("resolved");
    const messages = await messagesOf(db, ws, conversation?.id ?? "");
    expect(messages.map((m) => [m.metadata.threadedBy, m.metadata.autoReply ?? false])).toEqual([
      ["new", false],
      ["subject", false],
      ["references", true],
    ]);
  });

  it("a bounce marks the delivery bounced and suppresses the address, with no conversation", async () => {
    const { ws } = await setup();
    const customer = await knownCustomer(db, ws, "gone.customer@mail.example");
    const original = `<${uuidv7().replace(/-/g, "")}@melodia.example>`;
    const id = await sentEmail(db, ws, customer, "gone.customer@mail.example", original);
    await send(
      emlFixture("12-dsn-bounce.eml", { "<9a8b7c6d5e4f30211a2b3c4d5e6f7a8b@melodia.example>": original }),
      ["news@melodia.example"],
      "",
    );
    expect(await deliveryState(db, ws, id)).toBe("bounced");
    expect(await suppressed(db, ws, "gone.customer@mail.example")).toEqual(["hard_bounce"]);
    expect(await conversationsIn(db, ws)).toEqual([]);
  });

  it("stores sanitised HTML and decodes Shift_JIS", async () => {
    const { ws, address } = await setup();
    const swap = { "support@melodia.example": address };
    await send(emlFixture("14-html-xss.eml", swap), [address]);
    await send(emlFixture("10-shift-jis-base64.eml", swap), [address]);
    const [xss, jp] = await conversationsIn(db, ws);
    const [x] = await messagesOf(db, ws, xss?.id ?? "");
    expect(x?.html).not.toMatch(/<script|onerror|javascript:/i);
    const [j] = await messagesOf(db, ws, jp?.id ?? "");
    expect(j?.text).toContain("注文したギターがまだ届いていません。");
  });

  it("refuses more than 30 MB with 552 and keeps serving", async () => {
    const { ws, address } = await setup();
    const head = emlFixture("05-apple-mail-first.eml", { "support@melodia.example": address });
    const body = Buffer.alloc(MAX_EMAIL_BYTES + 1024, 0x61);
    for (let i = 76; i < body.length; i += 78) {
      body[i] = 0x0d;
      body[i + 1] = 0x0a;
    }
    // announced with SIZE at MAIL FROM…
    expect(await refusal(send(Buffer.concat([head, body]), [address]))).toBe(552);
    // …and, streamed with no size known beforehand, counted during DATA
    const streamed = client.sendMail({
      envelope: { from: "a@mail.example", to: [address] },
      raw: Readable.from([head, body]),
    });
    expect(await refusal(streamed)).toBe(552);
    await send(head, [address]);
    expect(await conversationsIn(db, ws)).toHaveLength(1);
  });

  it("answers 5xx to malformed or unroutable mail, never crashes, and stores the good mail after it", async () => {
    const { ws, address } = await setup();
    expect(await refusal(send(Buffer.from("\u0000\u00ff garbage with no headers at all"), [address]))).toBe(
      554,
    );
    expect(
      await refusal(
        send(emlFixture("05-apple-mail-first.eml", { "support@melodia.example": "nobody@nowhere.example" }), [
          "nobody@nowhere.example",
        ]),
      ),
    ).toBe(550);
    await send(emlFixture("16-malformed-boundary.eml", { "support@melodia.example": address }), [address]);
    await send(emlFixture("05-apple-mail-first.eml", { "support@melodia.example": address }), [address]);
    expect(await conversationsIn(db, ws)).toHaveLength(2);
  });
});
