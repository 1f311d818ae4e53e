import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { signedAttachmentUrl } from "../src/conversations/attachment-links.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { getDelivery, setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports } from "../src/delivery/providers/smtp.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { emailThroughFakeSmtp, type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";
import { startFakeTwilio } from "./support/fake-twilio.ts";

// the reply path and the SMTP provider read the data folder from the environment, as a server does
const dataDir = mkdtempSync(join(tmpdir(), "rapport-reply-files-"));
process.env.RAPPORT_DATA_DIR = dataDir;

const account = { accountSid: `AC${"ef".repeat(16)}`, authToken: "token" };
let app: App;
let db: Db;
let smtp: FakeSmtp;
let twilio: Awaited<ReturnType<typeof startFakeTwilio>>;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DATA_DIR: dataDir, RAPPORT_PUBLIC_URL: "https://rapport.example" });
  db = app.ctx.database.db;
  smtp = await startFakeSmtp();
  twilio = await startFakeTwilio(account);
});
afterAll(async () => {
  closeSmtpTransports();
  await smtp.close();
  await twilio.close();
  await app.close();
});

const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

function multipart(files: Array<{ name: string; type: string; data: Buffer }>, field = "file") {
  const boundary = "----rapport-test-boundary";
  const parts = files.map((f) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
      ),
      f.data,
      Buffer.from("\r\n"),
    ]),
  );
  return {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
  };
}

async function upload(secretKey: string, files: Array<{ name: string; type: string; data: Buffer }>) {
  const body = multipart(files);
  return app.inject({
    method: "POST",
    url: "/api/v1/attachments",
    headers: { ...body.headers, authorization: `Bearer ${secretKey}` },
    payload: body.payload,
  });
}

async function reply(secretKey: string, conversationId: string, body: Record<string, unknown>) {
  return app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${secretKey}` },
    payload: body,
  });
}

async function conversationOn(
  ws: string,
  inboxId: string,
  from: { kind: "email" | "phone" | "messenger_psid"; value: string },
) {
  const r = await receiveInbound(
    db,
    ws,
    { inboxId, from: [from], contactAddress: from.value, text: "Hello?", subject: "Help" },
    { defaultCountry: "US" },
  );
  return r.conversationId;
}

const storedAttachments = async (ws: string, messageId: string) =>
  (
    await rows<{ attachments: unknown }>(
      db,
      sql`SELECT attachments FROM conversation_messages WHERE workspace_id = ${ws} AND id = ${messageId}`,
    )
  )[0]?.attachments;

describe("uploading a file for a reply", () => {
  it("stores it and answers its key, name, type, size and agents' URL", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const res = await upload(t.secretKey, [{ name: "invoice.pdf", type: "application/pdf", data: PDF }]);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      key: expect.stringMatching(/^\d{4}-\d{2}\//),
      name: "invoice.pdf",
      contentType: "application/pdf",
      size: PDF.length,
      url: `/api/v1/attachments/${body.key}`,
    });
    const served = await app.inject({
      method: "GET",
      url: body.url,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(PDF)).toBe(true);
  });

  it("refuses a file too large, an empty one, programs, and a form without a file", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const cases: Array<[Array<{ name: string; type: string; data: Buffer }>, number, string]> = [
      [
        [{ name: "big.bin", type: "application/octet-stream", data: Buffer.alloc(10 * 1024 * 1024 + 1, 1) }],
        413,
        "attachments.too_large",
      ],
      [
        [{ name: "huge.bin", type: "application/octet-stream", data: Buffer.alloc(11 * 1024 * 1024, 1) }],
        413,
        "attachments.too_large",
      ],
      [[{ name: "empty.txt", type: "text/plain", data: Buffer.alloc(0) }], 400, "attachments.empty"],
      [
        [{ name: "setup.exe", type: "application/octet-stream", data: Buffer.from("hello") }],
        400,
        "attachments.type_forbidden",
      ],
      [
        [{ name: "notes.txt", type: "text/plain", data: Buffer.from("MZ\x90\x00 a renamed program") }],
        400,
        "attachments.type_forbidden",
      ],
      [
        [{ name: "run", type: "application/x-sh", data: Buffer.from("echo hi") }],
        400,
        "attachments.type_forbidden",
      ],
      [[], 400, "attachments.no_file"],
      [
        [
          { name: "a.pdf", type: "application/pdf", data: PDF },
          { name: "b.pdf", type: "application/pdf", data: PDF },
        ],
        400,
        "attachments.too_many_files",
      ],
    ];
    for (const [files, status, code] of cases) {
      const res = await upload(t.secretKey, files);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const unauthenticated = await app.inject({
      method: "POST",
      url: "/api/v1/attachments",
      ...multipart([{ name: "a.pdf", type: "application/pdf", data: PDF }]),
    });
    expect(unauthenticated.statusCode).toBe(401);
  });
});

describe("a reply's attachments", () => {
  it("go as MIME attachments on email, and the message keeps them", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const ws = t.workspace.id;
    await emailThroughFakeSmtp(db, ws, smtp);
    const inbox = await createInbox(db, ws, {
      kind: "email",
      name: "Support",
      address: "support@melodia.example",
    });
    const conversationId = await conversationOn(ws, inbox.id, { kind: "email", value: "ada@example.com" });
    const file = (
      await upload(t.secretKey, [{ name: "invoice.pdf", type: "application/pdf", data: PDF }])
    ).json();
    const res = await reply(t.secretKey, conversationId, {
      text: "Here is your invoice.",
      attachments: [{ key: file.key }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const { messageId, delivery } = res.json();
    expect(await storedAttachments(ws, messageId)).toEqual([
      { key: file.key, name: "invoice.pdf", contentType: "application/pdf", size: PDF.length },
    ]);
    expect(await runDelivery(db, ws, delivery.deliveryId)).toBe("sent");
    const [mail] = await smtp.waitFor(1);
    const parsed = await simpleParser(mail?.raw ?? "");
    expect(parsed.text).toContain("Here is your invoice.");
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.content.equals(PDF)])).toEqual([
      ["invoice.pdf", "application/pdf", true],
    ]);
  });

  it("go as signed, expiring MediaUrls on SMS, which open without a session", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const ws = t.workspace.id;
    await getMessagingSettings(db, ws);
    await setProvider(db, ws, "sms", "twilio", { ...account, from: "+15005550006", baseUrl: twilio.url });
    const inbox = await createInbox(db, ws, {
      kind: "sms",
      name: "SMS",
      address: "+15005550007",
      config: account,
    });
    const conversationId = await conversationOn(ws, inbox.id, { kind: "phone", value: "+33611111111" });
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(32, 7),
    ]);
    const file = (
      await upload(t.secretKey, [{ name: "screenshot.png", type: "image/png", data: png }])
    ).json();
    const res = await reply(t.secretKey, conversationId, {
      text: "See the picture.",
      attachments: [{ key: file.key }],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await runDelivery(db, ws, res.json().delivery.deliveryId)).toBe("sent");
    const form = twilio.messages.at(-1)?.form ?? {};
    expect(form.Body).toBe("See the picture.");
    const media = String(form.MediaUrl);
    expect(media).toMatch(
      new RegExp(`^https://rapport\\.example/files/v1/${ws}/${file.key}\\?exp=\\d+&sig=`),
    );
    const path = media.replace("https://rapport.example", "");
    const opened = await app.inject({ method: "GET", url: path });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers["content-type"]).toBe("image/png");
    expect(opened.rawPayload.equals(png)).toBe(true);
    // a changed signature, another workspace's path, an expired link
    // (another first character than the one it has: replacing an "A" by "A" would forge nothing)
    const forged = await app.inject({
      method: "GET",
      url: path.replace(/sig=(.)/, (_, c: string) => `sig=${c === "A" ? "B" : "A"}`),
    });
    expect(forged.statusCode).toBe(404);
    const other = (await createTestWorkspace(app.ctx.database)).workspace.id;
    expect((await app.inject({ method: "GET", url: path.replace(ws, other) })).statusCode).toBe(404);
    const old = await signedAttachmentUrl(db, ws, file.key, {
      publicUrl: "https://rapport.example",
      nowMs: Date.now() - 8 * 24 * 3600 * 1000,
    });
    const expired = await app.inject({ method: "GET", url: old.replace("https://rapport.example", "") });
    expect(expired.statusCode).toBe(403);
    expect(expired.json().error.code).toBe("attachments.link_expired_forbidden");
  });

  it("go as links under the text where the channel cannot attach (Messenger, to the sandbox)", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const ws = t.workspace.id;
    const inbox = await createInbox(db, ws, {
      kind: "messenger",
      name: "Page",
      address: "1098765",
      config: { appSecret: "s", verifyToken: "v", sandbox: true },
    });
    const conversationId = await conversationOn(ws, inbox.id, {
      kind: "messenger_psid",
      value: "6543210987654321",
    });
    const file = (
      await upload(t.secretKey, [{ name: "guide.pdf", type: "application/pdf", data: PDF }])
    ).json();
    const res = await reply(t.secretKey, conversationId, {
      text: "Our guide:",
      attachments: [{ key: file.key }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const deliveryId = res.json().delivery.deliveryId;
    expect(await runDelivery(db, ws, deliveryId)).toBe("delivered");
    const delivery = await getDelivery(db, ws, deliveryId);
    expect(delivery.provider).toBe("sandbox");
    expect(delivery.content?.text).toMatch(
      new RegExp(
        `^Our guide:\\n\\nguide\\.pdf: https://rapport\\.example/files/v1/${ws}/${file.key}\\?exp=\\d+&sig=\\S+$`,
      ),
    );
  });

  it("refuses an unknown key, another workspace's file, or more than ten, and writes nothing", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const ws = t.workspace.id;
    const inbox = await createInbox(db, ws, { kind: "email", name: "Support", address: "help@example.com" });
    const conversationId = await conversationOn(ws, inbox.id, { kind: "email", value: "bob@example.com" });
    const elsewhere = await createTestWorkspace(app.ctx.database);
    const foreign = (
      await upload(elsewhere.secretKey, [{ name: "a.pdf", type: "application/pdf", data: PDF }])
    ).json();
    for (const key of ["2026-11/nope", foreign.key]) {
      const res = await reply(t.secretKey, conversationId, { text: "Here", attachments: [{ key }] });
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe("conversations.attachment_not_found");
    }
    const own = (await upload(t.secretKey, [{ name: "a.pdf", type: "application/pdf", data: PDF }])).json();
    const tooMany = await reply(t.secretKey, conversationId, {
      text: "Here",
      attachments: Array.from({ length: 11 }, () => ({ key: own.key })),
    });
    expect(tooMany.statusCode).toBe(400);
    // the route's schema is ReplyInput itself: fastify refuses it before the reply code runs
    expect(tooMany.json().error.code).toBe("request.invalid");
    expect(tooMany.json().error.message).toContain("attachments");
    const outbound = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM conversation_messages WHERE workspace_id = ${ws} AND direction = 'outbound'`,
    );
    expect(outbound[0]?.n).toBe(0);
  });
});
