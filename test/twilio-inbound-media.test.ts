import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchTwilioMedia } from "../src/channels/twilio/media.ts";
import { attachmentStoreFor } from "../src/conversations/attachments.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Attachment } from "../src/conversations/tables.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";
import { startFakeTwilioMedia } from "./support/fake-twilio-media.ts";

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "inbox-auth-token-3" };
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4096, 7)]);
const PDF = Buffer.from("%PDF-1.4\n% receipt #4471\n%%EOF\n");

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
let dataDir: string;
let media: Awaited<ReturnType<typeof startFakeTwilioMedia>>;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "rapport-twilio-media-"));
  media = await startFakeTwilioMedia(ACCOUNT);
  app = await testApp({
    RAPPORT_PUBLIC_URL: PUBLIC_URL,
    RAPPORT_DEFAULT_COUNTRY: "US",
    RAPPORT_DATA_DIR: dataDir,
  });
});
afterAll(async () => {
  await app?.close();
  await media?.close();
  rmSync(dataDir, { recursive: true, force: true });
});
const db = async () => (await testDatabase()).db;

/** The MMS fixture with its media URLs moved to the fake server (same paths Twilio uses). */
function mmsForm(): Form {
  const form = fixture("mms");
  for (const name of ["MediaUrl0", "MediaUrl1"]) {
    form[name] = (form[name] ?? "").replace("https://api.twilio.com", media.url);
  }
  return form;
}

async function postSigned(t: TestWorkspace, form: Form) {
  const inbox = await createInbox(await db(), t.workspace.id, {
    kind: "sms",
    name: "MMS",
    address: "+14155550100",
    config: ACCOUNT,
  });
  const path = `/webhooks/twilio/${t.workspace.id}/inbox/${inbox.id}`;
  const signature = twilioSignature(ACCOUNT.authToken, `${PUBLIC_URL}${path}`, form);
  expect(twilio.validateRequest(ACCOUNT.authToken, signature, `${PUBLIC_URL}${path}`, form)).toBe(true);
  return app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    payload: new URLSearchParams(form).toString(),
  });
}

async function storedMessage(workspaceId: string) {
  const found = await rows<{ text: string; attachments: Attachment[]; metadata: Record<string, unknown> }>(
    await db(),
    sql`SELECT text, attachments, metadata FROM conversation_messages WHERE workspace_id = ${workspaceId}`,
  );
  expect(found).toHaveLength(1);
  return found[0];
}

const mediaPath = (url: string | undefined) => new URL(url ?? "").pathname;

describe("Twilio MMS media", () => {
  it("fetches each media item with the account's Basic auth and stores it as an attachment", async () => {
    const t = await createTestWorkspace();
    const form = mmsForm();
    media.serve(mediaPath(form.MediaUrl0), "image/jpeg", JPEG);
    media.serve(mediaPath(form.MediaUrl1), "application/pdf", PDF);
    const before = media.requests.length;
    const res = await postSigned(t, form);
    expect(res.statusCode).toBe(200);
    const asked = media.requests.slice(before);
    expect(asked.map((r) => r.path).sort()).toEqual(
      [mediaPath(form.MediaUrl0), mediaPath(form.MediaUrl1)].sort(),
    );
    const basic = `Basic ${Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString("base64")}`;
    expect(asked.every((r) => r.authorization === basic)).toBe(true);

    const message = await storedMessage(t.workspace.id);
    expect(message?.text).toBe(form.Body);
    expect(message?.metadata).toMatchObject({ numMedia: 2 });
    expect(message?.metadata).not.toHaveProperty("mediaFailures");
    expect(message?.attachments.map((a) => [a.name, a.contentType, a.size])).toEqual([
      ["media-0.jpg", "image/jpeg", JPEG.length],
      ["media-1.pdf", "application/pdf", PDF.length],
    ]);
    const store = attachmentStoreFor(dataDir);
    const [jpeg, pdf] = message?.attachments ?? [];
    expect((await store.get(t.workspace.id, jpeg?.key ?? ""))?.data.equals(JPEG)).toBe(true);
    expect((await store.get(t.workspace.id, pdf?.key ?? ""))?.data.equals(PDF)).toBe(true);
  });

  it("keeps the message when a media URL answers 404, noting the failure", async () => {
    const t = await createTestWorkspace();
    const form = mmsForm();
    form.MediaUrl1 = `${media.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages/MMgone/Media/MEgone`;
    media.serve(mediaPath(form.MediaUrl0), "image/jpeg", JPEG);
    const res = await postSigned(t, form);
    expect(res.statusCode).toBe(200);
    const message = await storedMessage(t.workspace.id);
    expect(message?.text).toBe(form.Body);
    expect(message?.attachments.map((a) => a.name)).toEqual(["media-0.jpg"]);
    expect(message?.metadata).toMatchObject({
      mediaFailures: [{ index: 1, url: form.MediaUrl1, reason: "HTTP 404" }],
    });
  });
});

describe("fetchTwilioMedia", () => {
  it("refuses a file over the limit, a wrong account and a non-HTTP URL, item by item", async () => {
    const t = await createTestWorkspace();
    const store = attachmentStoreFor(dataDir);
    const big = media.serve("/big", "image/png", Buffer.alloc(2048, 1));
    const small = media.serve("/small", "image/png", Buffer.alloc(16, 1));
    const items = [
      { index: 0, url: big, contentType: "image/png" },
      { index: 1, url: small, contentType: "image/png" },
      { index: 2, url: "file:///etc/passwd", contentType: undefined },
    ];
    const result = await fetchTwilioMedia(store, t.workspace.id, items, ACCOUNT, { maxBytes: 1024 });
    expect(result.attachments.map((a) => a.size)).toEqual([16]);
    expect(result.failures.map((f) => [f.index, f.reason])).toEqual([
      [0, "larger than 1024 bytes"],
      [2, "file: URLs are not fetched"],
    ]);
    const wrong = await fetchTwilioMedia(store, t.workspace.id, items.slice(1, 2), {
      ...ACCOUNT,
      authToken: "not-the-token",
    });
    expect(wrong.failures.map((f) => f.reason)).toEqual(["HTTP 401"]);
  });
});
