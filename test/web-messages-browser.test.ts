import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCallEntry } from "../src/channels/twilio/call-entries.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { attachmentStoreFor } from "../src/conversations/attachments.ts";
import { listMessages } from "../src/conversations/conversations.ts";
import { conversationsTopic, receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { publishInTransaction } from "../src/realtime/bus.ts";
import { expectAccessible as expectAccessibleApp } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { startRecordingServer } from "./support/fake-provider-server.ts";
import { twilioError } from "./support/fake-twilio.ts";
import { waitFor } from "./support/job-helpers.ts";
import { signedIn } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { TWILIO_ACCOUNT } from "./support/web-inbox.ts";

// Each channel's messages as the agent reads them: email in its sandboxed frame with its
// headers and files, bubbles with media, social context, calls, notes, activities, typing,
// and a failed reply that says why and goes out again on Retry.

let app: App;
let base: string;
let browser: Browser;
// a Twilio that refuses the first message it is asked to send, then takes every other
let sends = 0;
let twilio: Awaited<ReturnType<typeof startRecordingServer>>;

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({
    RAPPORT_DEFAULT_COUNTRY: "US",
    RAPPORT_DATA_DIR: mkdtempSync(join(tmpdir(), "rapport-web-messages-")),
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  twilio = await startRecordingServer((req) => {
    sends += 1;
    if (sends === 1) return twilioError(400, 21610, "Attempt to send to unsubscribed recipient");
    return {
      status: 201,
      body: { sid: `SM${uuidv7().replaceAll("-", "")}`, status: "queued", to: req.form.To },
    };
  });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await twilio?.close();
});

/** Waits for a value to come right; the shared machine can be slow, so it waits long enough. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });

type Agent = Awaited<ReturnType<typeof signedIn>>;

// the email's own markup is the sender's, shown as sent in its frame (which runs no script, so axe
// cannot run inside it either): the app around it is checked
const expectAccessible = (page: Page) =>
  expectAccessibleApp(page, undefined, { exclude: ["iframe.email-frame"] });

async function openAs(agent: Agent, options: BrowserContextOptions) {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: "rapport_session", value: agent.cookies.rapport_session, url: base }]);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
      errors.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.setDefaultTimeout(20_000);
  return { page, errors };
}

function rawEmail(): Buffer {
  const html =
    '<div dir="ltr">The strap broke after a week. Invoice attached.</div><br>' +
    '<img src="https://tracker.example/open.gif" alt="">' +
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Mar 4, 2025 Melodia wrote:<br></div>' +
    '<blockquote class="gmail_quote" style="border-left:1px solid #ccc;padding-left:1ex">How can we help you?</blockquote></div>';
  return Buffer.from(
    [
      "From: Ada Lovelace <ada@example.com>",
      "To: Support <support@melodia.example>",
      "Cc: Charles <charles@example.com>",
      "Subject: Broken strap",
      `Message-ID: <${uuidv7()}@example.com>`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/html; charset=utf-8",
      "",
      html,
      "--b1",
      'Content-Type: application/pdf; name="invoice-1042.pdf"',
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment; filename="invoice-1042.pdf"',
      "",
      Buffer.from("%PDF-1.4 not really").toString("base64"),
      "--b1",
      'Content-Type: image/png; name="strap.png"',
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment; filename="strap.png"',
      "",
      PNG.toString("base64"),
      "--b1--",
      "",
    ].join("\r\n"),
  );
}

/** One workspace with a conversation on each channel, each taken in through its inbound path. */
async function seed(agent: Agent) {
  const db = app.ctx.database.db;
  const ws = agent.workspace.id;
  const opts = { defaultCountry: "US" };
  const store = attachmentStoreFor(app.ctx.config.dataDir);
  const bearer = { authorization: `Bearer ${agent.secretKey}` };

  const emailInbox = await createInbox(db, ws, {
    kind: "email",
    name: "Mail",
    address: "support@melodia.example",
  });
  const mail = await app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${emailInbox.id}/email`,
    headers: { ...bearer, "content-type": "message/rfc822" },
    payload: rawEmail(),
  });
  expect(mail.statusCode, mail.body).toBe(200);
  const email = mail.json<{ conversationId: string }>().conversationId;

  await getMessagingSettings(db, ws);
  await setProvider(db, ws, "sms", "twilio", {
    ...TWILIO_ACCOUNT,
    from: "+14155550199",
    baseUrl: twilio.url,
  });
  const sms = await createInbox(db, ws, {
    kind: "sms",
    name: "SMS",
    address: "+14155550100",
    config: TWILIO_ACCOUNT,
  });
  const photo = await store.put(ws, { name: "receipt-photo.png", contentType: "image/png", data: PNG });
  const card = await store.put(ws, {
    name: "contact.vcf",
    contentType: "text/vcard",
    data: Buffer.from("BEGIN:VCARD"),
  });
  const smsIn = await receiveInbound(
    db,
    ws,
    {
      inboxId: sms.id,
      from: [{ kind: "phone", value: "+14155550123" }],
      contactAddress: "+14155550123",
      providerMessageId: `SM${uuidv7()}`,
      text: "Here is my receipt",
      attachments: [photo, card],
      metadata: { channel: "sms", numMedia: "2" },
    },
    opts,
  );

  const messenger = await createInbox(db, ws, { kind: "messenger", name: "Page", address: "1000" });
  const comment = await receiveInbound(
    db,
    ws,
    {
      inboxId: messenger.id,
      from: [{ kind: "messenger_psid", value: "2001" }],
      contactAddress: "2001",
      providerMessageId: "c_1",
      text: "Is this in stock?",
      threadKey: "comments:1000_5",
      subject: "Comment on your Facebook post",
      metadata: {
        source: "facebook_comment",
        commentId: "c_1",
        post: { id: "1000_5", permalinkUrl: "https://www.facebook.com/melodia/posts/5" },
        parentCommentId: "c_0",
        replyTo: { kind: "comment", id: "c_1" },
      },
    },
    opts,
  );

  const x = await createInbox(db, ws, { kind: "x", name: "X", address: "9000" });
  const tweet = await receiveInbound(
    db,
    ws,
    {
      inboxId: x.id,
      from: [{ kind: "x_id", value: "7001" }],
      contactAddress: "7001",
      providerMessageId: "1777",
      text: "@melodia my order is late",
      threadKey: "tweet:1777",
      metadata: {
        channel: "x",
        kind: "mention",
        replyTo: { kind: "post", id: "1777" },
        tweet: { id: "1777", url: "https://x.com/grace/status/1777", quoted: null },
      },
    },
    opts,
  );

  const chat = await createInbox(db, ws, { kind: "chat", name: "Widget" });
  const chatIn = await receiveInbound(
    db,
    ws,
    {
      inboxId: chat.id,
      from: [{ kind: "email", value: "visitor@example.com" }],
      contactAddress: "visitor@example.com",
      text: "Hello, anyone there?",
      metadata: { widget: { pageUrl: "https://melodia.example/shop" } },
    },
    opts,
  );

  // a call an agent placed from the SMS conversation, recorded and transcribed
  const recording = await store.put(ws, {
    name: "recording-RE1.mp3",
    contentType: "audio/mpeg",
    data: Buffer.alloc(64),
  });
  await insertCallEntry(db, ws, {
    conversationId: smsIn.conversationId,
    inboxId: sms.id,
    authorId: agent.user.id,
    call: {
      callSid: "CA1",
      direction: "outbound-api",
      status: "completed",
      from: "+14155550100",
      to: "+14155550123",
      durationSeconds: 185,
      recording: { sid: "RE1", ...recording },
      transcription: "Hi, this is Melodia calling about your receipt.",
      statuses: [{ status: "completed", at: new Date().toISOString() }],
    },
  });
  // a note with a mention
  const note = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${smsIn.conversationId}/messages`,
    cookies: agent.cookies,
    headers: { origin: new URL(app.ctx.config.publicUrl).origin },
    payload: { text: `@[Alex Agent](user:${agent.user.id}) please check the photo`, private: true },
  });
  expect(note.statusCode, note.body).toBe(201);
  // an activity: a second thread of the customer merged into this one
  const other = await receiveInbound(
    db,
    ws,
    {
      inboxId: emailInbox.id,
      from: [{ kind: "phone", value: "+14155550123" }],
      threadKey: "other",
      text: "older thread",
    },
    opts,
  );
  const merged = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${other.conversationId}/merge`,
    headers: bearer,
    payload: { into: smsIn.conversationId },
  });
  expect(merged.statusCode, merged.body).toBe(200);
  return {
    email,
    sms: smsIn.conversationId,
    comment: comment.conversationId,
    tweet: tweet.conversationId,
    chat: chatIn.conversationId,
    ws,
  };
}

async function open(page: Page, conversationId: string) {
  await page.goto(`${base}/inbox/c/${conversationId}`);
  await page.locator(".message-list").waitFor();
}

/** Each channel in turn, on a desk or a phone; `at` names the step a failure stopped at. */
async function channels(phone: boolean, at: { step: string }) {
  const agent = await signedIn(app, "agent");
  const s = await seed(agent);
  const { page, errors } = await openAs(
    agent,
    phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } },
  );

  // email: subject, addresses, files, and the HTML in a sandboxed frame with its quote folded
  at.step = "email";

  await open(page, s.email);
  const email = page.locator(".message-email");
  await email.getByText("Broken strap").waitFor();
  await expect
    .poll(() => email.locator(".email-head").textContent())
    .toContain("Ada Lovelace <ada@example.com>");
  expect(await email.locator(".email-head").textContent()).toContain("charles@example.com");
  const pdf = email.getByRole("link", { name: "Download invoice-1042.pdf" });
  expect(await pdf.getAttribute("href")).toMatch(/^\/api\/v1\/attachments\//);
  expect(await email.getByRole("img", { name: "strap.png" }).count()).toBe(1);
  const iframe = email.locator("iframe.email-frame");
  expect(await iframe.getAttribute("sandbox")).toBe(
    "allow-same-origin allow-popups allow-popups-to-escape-sandbox",
  );
  const frame = page.frameLocator("iframe.email-frame");
  await frame.getByText("The strap broke after a week.").waitFor();
  await frame.getByText("1 remote image hidden").waitFor();
  expect(await frame.getByText("How can we help you?").isVisible()).toBe(false);
  const before = (await iframe.boundingBox())?.height ?? 0;
  await frame.getByText("Show quoted text").click();
  await frame.getByText("How can we help you?").waitFor();
  // the app sizes the frame to its content: opening the quote makes it taller
  at.step = "the app sizes the frame to its content";

  await poll(() => iframe.boundingBox().then((b) => b?.height ?? 0)).toBeGreaterThan(before);
  await expectAccessible(page);

  // SMS: the image inline, named by its file; other media a download; the call; the note; the activity
  at.step = "SMS";

  await open(page, s.sms);
  await page.getByRole("img", { name: "receipt-photo.png" }).waitFor();
  await page.getByRole("link", { name: "Download contact.vcf" }).waitFor();
  const call = page.locator("[data-kind=call]");
  await poll(() => call.textContent()).toContain("Outgoing call");
  expect(await call.textContent()).toContain("Completed");
  expect(await call.textContent()).toContain("3:05");
  expect(await call.locator("audio[controls]").getAttribute("src")).toMatch(/^\/api\/v1\/attachments\//);
  expect(await call.getByText("Hi, this is Melodia calling").isVisible()).toBe(false);
  await call.getByText("Transcript").click();
  await call.getByText("Hi, this is Melodia calling").waitFor();
  const note = page.locator(".message-note");
  expect(await note.locator(".note-label").textContent()).toBe("Private note");
  expect(await note.locator("mark.mention").textContent()).toBe("@Alex Agent");
  await page
    .locator("[data-kind=activity]")
    .getByText(/was merged into/)
    .waitFor();
  await expectAccessible(page);

  // the Facebook comment: which post, that it answers a comment; the agent's private reply says so
  at.step = "the Facebook comment";

  const reply = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${s.comment}/messages`,
    headers: { authorization: `Bearer ${agent.secretKey}` },
    payload: { text: "Yes, we sent you the details.", visibility: "private" },
  });
  expect(reply.statusCode, reply.body).toBe(201);
  await open(page, s.comment);
  const comment = page.locator(".message-inbound");
  await comment.getByText("Comment on your Facebook post").waitFor();
  expect(await comment.getByText("Reply in a comment thread").count()).toBe(1);
  expect(await comment.getByRole("link", { name: "View the post" }).getAttribute("href")).toBe(
    "https://www.facebook.com/melodia/posts/5",
  );
  await page.locator(".message-outbound").getByText("Private reply to the comment").waitFor();
  await expectAccessible(page);

  // X: a mention, with the tweet's link
  at.step = "X";

  await open(page, s.tweet);
  await page.getByText("Mention on X").waitFor();
  expect(await page.getByRole("link", { name: "View on X" }).getAttribute("href")).toBe(
    "https://x.com/grace/status/1777",
  );

  // chat: a bubble; the customer's typing shows in the indicator the view places (when it does)
  at.step = "chat";

  await open(page, s.chat);
  await page.locator(".message-inbound").getByText("Hello, anyone there?").waitFor();
  if ((await page.locator(".typing-indicator").count()) > 0) {
    await publishInTransaction(app.ctx.database.db, conversationsTopic(s.ws), {
      type: "typing",
      conversationId: s.chat,
      from: "customer",
      typing: true,
    });
    await page.getByText("Customer is typing…").waitFor();
  }
  await expectAccessible(page);
  expect(errors).toEqual([]);
  await page.context().close();
}

describe.skipIf(!haveBrowser)("each channel's messages in the agent app (needs Debian's chromium)", () => {
  for (const phone of [false, true]) {
    it(`shows every channel as it is, on a ${phone ? "phone" : "desk"}`, async () => {
      const at = { step: "seed" };
      await channels(phone, at).catch((e: unknown) => {
        throw new Error(`${at.step}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      });
    }, 300_000);
  }

  it("shows a failed reply's reason, and Retry sends it again, the state changing live", async () => {
    const agent = await signedIn(app, "agent");
    const s = await seed(agent);
    const { page, errors } = await openAs(agent, { viewport: { width: 1280, height: 900 } });
    const db = app.ctx.database.db;
    const reply = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${s.sms}/messages`,
      headers: { authorization: `Bearer ${agent.secretKey}` },
      payload: { text: "Thanks, refund on its way." },
    });
    expect(reply.statusCode, reply.body).toBe(201);
    const { messageId } = reply.json<{ messageId: string }>();
    const deliveryId = await waitFor("the reply's delivery", async () => {
      const list = await listMessages(db, s.ws, s.sms, { limit: 50 });
      return list.data.find((m) => m.id === messageId)?.deliveryId ?? undefined;
    });
    sends = 0;
    expect(await runDelivery(db, s.ws, deliveryId)).toBe("failed");
    await open(page, s.sms);
    const bubble = page.locator(`[data-message-id="${messageId}"]`);
    await bubble.getByText("Not delivered: ").waitFor();
    expect(await bubble.locator(".message-failure").textContent()).toContain("unsubscribed recipient");
    await expectAccessible(page);
    await bubble.getByRole("button", { name: "Retry" }).click();
    // the retry is taken: the failure goes, and the delivery's news arrives without a reload
    await bubble.getByRole("button", { name: "Retry" }).waitFor({ state: "detached" });
    expect(await runDelivery(db, s.ws, deliveryId)).toBe("sent");
    await expect
      .poll(() => bubble.locator(".message-state").getAttribute("data-delivery-state"))
      .toBe("sent");
    expect(await bubble.locator(".message-state").textContent()).toBe("Sent");
    expect(sends).toBe(2);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);
});
