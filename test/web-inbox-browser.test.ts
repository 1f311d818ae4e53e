import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConversation, listConversations, listMessages } from "../src/conversations/conversations.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeTwilio, startFakeTwilio } from "./support/fake-twilio.ts";
import { waitFor } from "./support/job-helpers.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { smsWorkspace, TWILIO_ACCOUNT } from "./support/web-inbox.ts";

let app: App;
let base: string;
let browser: Browser;
let fake: FakeTwilio;

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  fake = await startFakeTwilio(TWILIO_ACCOUNT);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.close();
});

/** A page that records every console error (a CSP refusal shows up there) and failed load. */
async function openPage(options: BrowserContextOptions): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext(options)).newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    // a failed load is recorded below with its address
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    // browsers ask for /favicon.ico on their own
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
      errors.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}

/**
 * The agent's day in one pass: sign in, a customer's SMS shows up live, the agent reads it,
 * replies (the fake Twilio receives the text), and resolves it; axe checks every screen.
 */
async function mainFlow(page: Page, errors: string[], phone: boolean, at: { step: string }) {
  // a stuck step fails in seconds, and the failure names it
  page.setDefaultTimeout(10_000);
  const s = await smsWorkspace(app, fake);
  const customer = phone ? "+14155550177" : "+14155550123";
  const question = `Where is my order ${phone ? "7781" : "4471"}?`;
  const answer = `It left our warehouse today (${phone ? "phone" : "desk"}).`;

  at.step = "sign in";
  // a signed-out visit goes to sign in, and signing in leads to the inbox
  await page.goto(`${base}/inbox/`);
  expect(new URL(page.url()).pathname).toBe("/login");
  expect(new URL(page.url()).searchParams.get("next")).toBe("/inbox/");
  await page.fill("#email", s.email);
  await page.fill("#password", s.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== "/login"),
    page.click("form button[type=submit]"),
  ]);
  expect(new URL(page.url()).pathname).toBe("/inbox/");
  await page.getByText("No conversations here.").waitFor();
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
  await expectAccessible(page);

  at.step = "the live SMS";
  // the SMS arrives while the list is open: it appears within a second, with no reload
  await page.evaluate(() => {
    Object.assign(globalThis, { __sameDocument: true });
  });
  const sentAt = Date.now();
  await s.textIn(customer, question);
  const row = page.locator("[data-conversation-id]").filter({ hasText: customer });
  await row.waitFor({ timeout: 1_000 });
  const seenAfter = Date.now() - sentAt;
  expect(seenAfter).toBeLessThan(1_000);
  expect(await page.evaluate(() => "__sameDocument" in globalThis)).toBe(true);
  await expect.poll(() => row.textContent()).toContain("SMS");

  if (!phone) {
    // the views: nobody has it yet; once it is the agent's (assigned elsewhere), Mine shows it live
    await page.getByText("Unassigned", { exact: true }).click();
    await row.waitFor();
    await page.getByText("Mine", { exact: true }).click();
    await page.getByText("No conversations here.").waitFor();
    const [listed] = (await listConversations(s.db, s.ws, { status: "open" })).data;
    const assigned = await app.inject({
      method: "PATCH",
      url: `/api/v1/conversations/${listed?.id}`,
      headers: { authorization: `Bearer ${s.secretKey}` },
      payload: { assigneeId: s.user.id },
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    await row.waitFor({ timeout: 1_000 });
  }

  at.step = "open the conversation";
  // the agent opens it and reads the customer's words as written
  await row.click();
  const conversationId = await waitFor("the conversation's address", () => {
    const m = /\/inbox\/c\/([^/]+)$/.exec(new URL(page.url()).pathname);
    return m?.[1];
  });
  await page.locator(".message-inbound").filter({ hasText: question }).waitFor();
  if (phone) {
    // one screen at a time: the list is hidden, a way back is shown
    expect(await page.getByRole("navigation", { name: "Conversations" }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: /Back to the list/ }).isVisible()).toBe(true);
  }
  await expectAccessible(page);

  at.step = "reply";
  // the reply goes out on the SMS channel, to the number the customer wrote from
  await page.getByLabel("Your reply").fill(answer);
  // the customer writes again while the agent types: it shows at once, and the reply box keeps the keyboard
  await s.textIn(customer, "Also, the tracking link is broken.");
  await page.locator(".message-inbound").filter({ hasText: "the tracking link is broken" }).waitFor({
    timeout: 1_000,
  });
  const replyBox = await page.getByLabel("Your reply").getAttribute("id");
  expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe(replyBox);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".message-outbound").filter({ hasText: answer }).waitFor();
  const deliveryId = await waitFor("the reply's delivery", async () => {
    const messages = await listMessages(s.db, s.ws, conversationId, { limit: 50 });
    return messages.data.find((m) => m.direction === "outbound")?.deliveryId ?? undefined;
  });
  expect(await runDelivery(s.db, s.ws, deliveryId)).toBe("sent");
  const sms = fake.messages.find((m) => m.form.Body === answer);
  expect(sms?.form).toMatchObject({ To: customer, From: "+14155550100", Body: answer });
  // the composer is empty again and the customer's message was sent once
  expect(await page.getByLabel("Your reply").inputValue()).toBe("");
  expect(fake.messages.filter((m) => m.form.Body === answer)).toHaveLength(1);

  at.step = "resolve";
  // resolved: the conversation leaves the open list
  await page.getByRole("button", { name: "Resolve" }).click();
  await page.getByRole("status").filter({ hasText: "Resolved" }).waitFor();
  // the header shows it at once (optimistically); the server has it when the request returns
  await expect.poll(async () => (await getConversation(s.db, s.ws, conversationId)).status).toBe("resolved");
  if (phone) await page.getByRole("button", { name: /Back to the list/ }).click();
  await page.getByText("No conversations here.").waitFor();
  expect((await listConversations(s.db, s.ws, { status: "open" })).data).toHaveLength(0);
  await expectAccessible(page);

  if (!phone) {
    at.step = "reconnect";
    // the live feed drops (a deploy, a proxy's timeout); what arrives meanwhile is not lost
    await page.getByText("All", { exact: true }).click();
    await page.getByText("No conversations here.").waitFor();
    for (const client of app.websocketServer.clients) client.terminate();
    await page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor();
    await s.textIn("+14155550188", "Are you there?");
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    const missed = page.locator("[data-conversation-id]").filter({ hasText: "+14155550188" });
    await missed.waitFor();
    expect(await page.locator("[data-conversation-id]").count()).toBe(1);
  }

  expect(errors).toEqual([]);
}

async function runFlow(page: Page, errors: string[], phone: boolean) {
  const at = { step: "start" };
  try {
    await mainFlow(page, errors, phone, at);
  } catch (err) {
    throw new Error(`the flow failed at "${at.step}": ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

describe.skipIf(!haveBrowser)("the agent inbox in a browser", () => {
  it("desktop: sign in, a live SMS, reply through Twilio, resolve", { timeout: 90_000 }, async () => {
    const { page, errors } = await openPage({ viewport: { width: 1280, height: 800 } });
    await runFlow(page, errors, false);
  });

  it("phone (390×844): the same flow, list and conversation as two screens", {
    timeout: 90_000,
  }, async () => {
    const { page, errors } = await openPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await runFlow(page, errors, true);
  });
});
