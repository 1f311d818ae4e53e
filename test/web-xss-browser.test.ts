import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentStoreFor } from "../src/conversations/attachments.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { recordPostOutcome } from "../src/conversations/social-posts.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";

// Stored cross-site scripting: what customers (and agents) write is stored and shown back to
// agents. Every payload below goes into every field the app shows, through the real inbound
// paths and APIs; the list, the conversation, the customer panel and page must show each one
// as text, and none may run: no dialog, no flag set, no refused inline script, no handler
// attribute in the document.

const FLAG = "__xssFired";
const set = `window.${FLAG}=1`;

const PAYLOADS = [
  `<script>${set}</script>`,
  `<img src=x onerror="${set}">`,
  "<img src=x onerror=alert(1)>",
  `<svg onload=${set}>`,
  "<svg/onload=alert(document.domain)>",
  `<svg><script>${set}</script></svg>`,
  `<a href="javascript:${set}">click me</a>`,
  `<iframe srcdoc="<script>parent.${FLAG}=1</script>"></iframe>`,
  `<iframe src="javascript:parent.${FLAG}=1"></iframe>`,
  `<div style="background:url(javascript:${set})">bg</div>`,
  `<div style="width:expression(${set})">expr</div>`,
  `{{constructor.constructor('${set}')()}}`,
  "{{constructor.constructor('alert(1)')()}}",
  `\${${set}}`,
  `&lt;script&gt;${set}&lt;/script&gt;`,
  `&#60;img src=x onerror=${set}&#62;`,
  `\\u003cscript\\u003e${set}\\u003c/script\\u003e`,
  `＜script＞${set}＜/script＞`,
  `"><script>${set}</script>`,
  `'><img src=x onerror=${set}>`,
  `" onmouseover="${set}" x="`,
  `' autofocus onfocus='${set}`,
  `</textarea><script>${set}</script>`,
  `</title><svg/onload=${set}>`,
  `<body onload=${set}>`,
  `<details open ontoggle=${set}>`,
  `<math><mi xlink:href="javascript:${set}">m</mi></math>`,
  `<object data="javascript:${set}"></object>`,
  `<embed src="javascript:${set}">`,
  `<input autofocus onfocus=${set}>`,
  `<video><source onerror="${set}"></video>`,
  `javascript:${set}`,
  `data:text/html,<script>parent.${FLAG}=1</script>`,
  `<meta http-equiv="refresh" content="0;url=javascript:${set}">`,
  `<img src="x" onerror="&#119;indow.${FLAG}=1">`,
  `<scr<script>ipt>${set}</scr</script>ipt>`,
  `<%= ${set} %>`,
  `<style>@import 'javascript:${set}';</style>`,
  `</script><script>${set}</script>`,
  `<noscript><p title="</noscript><img src=x onerror=${set}>">`,
];
// labels hold at most 64 characters
const SHORT = PAYLOADS.filter((p) => p.length <= 64).slice(0, 8);
const NAME = `<img src=x onerror=${set}>Mallory`;

let app: App;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({
    RAPPORT_DEFAULT_COUNTRY: "US",
    RAPPORT_DATA_DIR: mkdtempSync(join(tmpdir(), "rapport-web-xss-")),
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

type Agent = Awaited<ReturnType<typeof signedIn>>;

/**
 * Every payload in every field: an SMS customer (name, traits, messages, files), an email,
 * labels, a note, canned responses, a commented post.
 */
async function seed(agent: Agent) {
  const db = app.ctx.database.db;
  const ws = agent.workspace.id;
  const opts = { defaultCountry: "US" };
  const bearer = { authorization: `Bearer ${agent.secretKey}` };
  const store = attachmentStoreFor(app.ctx.config.dataDir);
  const sms = await createInbox(db, ws, { kind: "sms", name: "SMS", address: "+14155550100" });
  const traits: Record<string, string> = { name: NAME };
  PAYLOADS.forEach((p, i) => {
    traits[`p${String(i).padStart(2, "0")}`] = p;
  });
  const png = await store.put(ws, {
    name: "x.png",
    contentType: "image/png",
    data: Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
      "base64",
    ),
  });
  const pdf = await store.put(ws, {
    name: "x.pdf",
    contentType: "application/pdf",
    data: Buffer.from("%PDF"),
  });
  let conversationId = "";
  let customerId = "";
  for (const [i, text] of PAYLOADS.entries()) {
    const r = await receiveInbound(
      db,
      ws,
      {
        inboxId: sms.id,
        from: [{ kind: "phone", value: "+14155550123" }],
        contactAddress: "+14155550123",
        ...(i === 0 ? { traits } : {}),
        providerMessageId: `SM${uuidv7()}`,
        text,
        // a sender's file names are theirs too
        ...(i < 4 ? { attachments: [{ ...(i % 2 ? pdf : png), name: PAYLOADS[i + 4] ?? text }] } : {}),
      },
      opts,
    );
    conversationId = r.conversationId;
    customerId = r.customerId;
  }
  const labels = await app.inject({
    method: "PATCH",
    url: `/api/v1/conversations/${conversationId}`,
    headers: bearer,
    payload: { labels: SHORT },
  });
  expect(labels.statusCode, labels.body).toBe(200);
  const note = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: bearer,
    payload: { text: `@[${PAYLOADS[0]}](user:${agent.user.id}) ${PAYLOADS[1]}`, private: true },
  });
  expect(note.statusCode, note.body).toBe(201);
  for (const [i, p] of PAYLOADS.slice(0, 3).entries()) {
    const canned = await app.inject({
      method: "POST",
      url: "/api/v1/canned-responses",
      headers: bearer,
      payload: { shortcut: `xss${i}`, title: p, body: p },
    });
    expect(canned.statusCode, canned.body).toBeLessThan(300);
  }
  // an email whose HTML is every payload at once, with one for its subject and its sender's name
  const mailbox = await createInbox(db, ws, {
    kind: "email",
    name: "Mail",
    address: "support@melodia.example",
  });
  const raw = [
    `From: "${PAYLOADS[1]?.replaceAll('"', "'")}" <mallory@example.com>`,
    "To: support@melodia.example",
    `Subject: ${PAYLOADS[0]}`,
    `Message-ID: <${uuidv7()}@example.com>`,
    "MIME-Version: 1.0",
    "Content-Type: text/html; charset=utf-8",
    "",
    // an unclosed <svg> or <math> hides the rest from the browser (and so from the sanitiser): those go last
    [
      ...PAYLOADS.filter((p) => !/<(svg|math)/i.test(p)),
      ...PAYLOADS.filter((p) => /<(svg|math)/i.test(p)),
    ].join("<br>\r\n"),
    "",
  ].join("\r\n");
  const mail = await app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${mailbox.id}/email`,
    headers: { ...bearer, "content-type": "message/rfc822" },
    payload: Buffer.from(raw),
  });
  expect(mail.statusCode, mail.body).toBe(200);
  // a comment under a post whose text (as the Graph API gave it) is every payload, one a line
  const page = await createInbox(db, ws, { kind: "messenger", name: "Page", address: "1000" });
  const comment = await receiveInbound(
    db,
    ws,
    {
      inboxId: page.id,
      from: [{ kind: "messenger_psid", value: "2001" }],
      contactAddress: "2001",
      providerMessageId: "c_1",
      text: PAYLOADS[1] ?? "",
      threadKey: "comments:1000_5",
      metadata: {
        source: "facebook_comment",
        post: { id: "1000_5" },
        replyTo: { kind: "comment", id: "c_1" },
      },
    },
    opts,
  );
  await recordPostOutcome(db, ws, page.id, "1000_5", {
    kind: "ready",
    text: PAYLOADS.join("\n"),
    permalinkUrl: `javascript:${set}`,
    mediaUrl: `javascript:${set}`,
    postedAt: new Date(),
  });
  return {
    conversationId,
    customerId,
    email: mail.json<{ conversationId: string }>().conversationId,
    comment: comment.conversationId,
  };
}

/** A signed-in page that records dialogs, refused scripts and failures. */
async function openAs(agent: Agent) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.addCookies([{ name: "rapport_session", value: agent.cookies.rapport_session, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const dialogs: string[] = [];
  const refused: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on("console", (m) => {
    // a payload injected as markup shows up here when the policy stops it
    if (/Content Security Policy|Refused to|inline script|unsafe-eval/i.test(m.text()))
      refused.push(m.text());
  });
  page.on("pageerror", (e) => refused.push(e.message));
  return { page, dialogs, refused };
}

/** Nothing ran or was injected: no flag, no handler attribute, no script without the app's nonce. */
async function expectInert(page: Page, dialogs: string[], refused: string[]) {
  // (a string: the test's own types know no DOM)
  const found = (await page.evaluate(`(() => {
    const docs = [document];
    for (const f of document.querySelectorAll("iframe")) if (f.contentDocument) docs.push(f.contentDocument);
    const handlers = [];
    const scripts = [];
    for (const d of docs) {
      for (const el of d.querySelectorAll("*")) {
        for (const a of el.attributes) {
          if (a.name.startsWith("on")) handlers.push(el.tagName + " " + a.name);
          if (/^\\s*javascript:/i.test(a.value) && /href|src|action|data/.test(a.name))
            handlers.push(el.tagName + " " + a.name + "=" + a.value);
        }
      }
      for (const s of d.querySelectorAll("script")) if (!s.src) scripts.push(s.outerHTML.slice(0, 80));
    }
    return { flag: "${FLAG}" in window, handlers, scripts, frames: docs.length - 1 };
  })()`)) as { flag: boolean; handlers: string[]; scripts: string[]; frames: number };
  expect(found.flag).toBe(false);
  expect(found.handlers).toEqual([]);
  expect(found.scripts).toEqual([]);
  expect(dialogs).toEqual([]);
  expect(refused).toEqual([]);
  return found;
}

describe.skipIf(!haveBrowser)("stored XSS payloads in every field (needs Debian's chromium)", () => {
  it(`shows ${PAYLOADS.length} payloads as text in the list, the conversation and the customer panel, and runs none`, async () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(30);
    const agent = await signedIn(app, "agent");
    const s = await seed(agent);
    const { page, dialogs, refused } = await openAs(agent);

    // the list: the customer's name and the last message, as text
    await page.goto(`${base}/inbox/`);
    const row = page.locator("[data-conversation-id]").filter({ hasText: NAME }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain(NAME);
    await expectInert(page, dialogs, refused);

    // the conversation: every message, file name, label and note as written
    await page.goto(`${base}/inbox/c/${s.conversationId}`);
    await page.locator(".message-list").waitFor();
    await expect
      .poll(() => page.locator(".message-list .message-inbound").count(), { timeout: 20_000 })
      .toBe(PAYLOADS.length);
    const texts = await page.locator(".message-list .message-text").allInnerTexts();
    for (const p of PAYLOADS) expect(texts).toContain(p);
    const list = (await page.locator(".message-list").textContent()) ?? "";
    expect(list).toContain(PAYLOADS[4]);
    expect(list).toContain(`@${PAYLOADS[0]}`);
    const files = page.locator(".message-attachments");
    for (const [i, name] of PAYLOADS.slice(4, 8).entries()) {
      // images are named by their file name, other files are links to download
      const shown =
        i % 2 === 0
          ? files.getByRole("img", { name, exact: true })
          : files.getByRole("link", { name: `Download ${name}`, exact: true });
      expect(await shown.count()).toBe(1);
    }
    const whole = (await page.locator("body").textContent()) ?? "";
    for (const label of SHORT) expect(whole).toContain(label);
    // the customer panel beside it: the name and every trait, as text
    const panel = page.locator("aside, [aria-label='Customer details']").first();
    await panel.getByText("Mallory").first().waitFor();
    const traits = panel.getByRole("button", { name: "Traits" });
    if ((await traits.count()) > 0) await traits.click();
    await page.locator("[data-section=traits]").first().waitFor();
    const shown = (await page.locator("[data-section=traits]").first().textContent()) ?? "";
    for (const p of PAYLOADS) expect(shown).toContain(p);
    expect(shown).toContain(NAME);
    // canned responses, in the composer's picker
    const canned = page.getByRole("button", { name: /Canned responses/ });
    if ((await canned.count()) > 0) {
      await canned.first().click();
      await page.locator(".canned-list").waitFor();
      const titles = (await page.locator(".canned-list").textContent()) ?? "";
      for (const p of PAYLOADS.slice(0, 3)) expect(titles).toContain(p);
      await page.keyboard.press("Escape");
    }
    await expectInert(page, dialogs, refused);

    // the customer's page
    await page.goto(`${base}/inbox/customers/${s.customerId}`);
    await page.getByText(NAME).first().waitFor();
    await expectInert(page, dialogs, refused);

    // the email: its subject as text, its HTML in the sandboxed frame, where nothing runs either
    await page.goto(`${base}/inbox/c/${s.email}`);
    await page
      .locator(".email-subject")
      .getByText(PAYLOADS[0] ?? "")
      .waitFor();
    const frame = page.frameLocator("iframe.email-frame");
    await frame.getByText("click me").waitFor();
    expect(await frame.locator("a").first().getAttribute("href")).toBeNull();
    await frame.getByText("{{constructor.constructor('alert(1)')()}}").waitFor();
    const inert = await expectInert(page, dialogs, refused);
    expect(inert.frames).toBe(1);

    // the post a comment belongs to: its text as written, all of it once shown in full
    await page.goto(`${base}/inbox/c/${s.comment}`);
    const post = page.locator(".post-card");
    await post.locator(".post-card-text").waitFor();
    await post.getByRole("button", { name: "Show more" }).click();
    expect(await post.locator(".post-card-text").textContent()).toBe(PAYLOADS.join("\n"));
    // a link of another scheme is no link
    expect(await post.locator("a, img").count()).toBe(0);
    await expectInert(page, dialogs, refused);
    await page.context().close();
  }, 300_000);
});
