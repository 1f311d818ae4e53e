import type { Browser, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listConversations, listMessages } from "../src/conversations/conversations.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { PASSWORD } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { TWILIO_ACCOUNT } from "./support/web-inbox.ts";

let app: App;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** An admin of a fresh workspace with an SMS and an email inbox, signed in; and its session cookie. */
async function workspace() {
  const db = app.ctx.database.db;
  const ws = (await createTestWorkspace(app.ctx.database)).workspace.id;
  const sms = await createInbox(db, ws, {
    kind: "sms",
    name: "Support SMS",
    address: "+14155550100",
    config: TWILIO_ACCOUNT,
  });
  const email = await createInbox(db, ws, {
    kind: "email",
    name: "Support email",
    address: "help@shop.example",
  });
  const login = `admin-${uuidv7().slice(-12)}@example.com`;
  await createUser(db, {
    workspaceId: ws,
    email: login,
    name: "Ana Admin",
    role: "admin",
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email: login, password: PASSWORD },
  });
  const cookie = res.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${res.body}`);
  return { db, ws, sms, email, cookie };
}

async function openPage(cookie: string, options: BrowserContextOptions) {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: "rapport_session", value: cookie, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    // the refused address below is a refusal on purpose
    if (r.status() >= 400 && path !== "/favicon.ico" && path !== "/api/v1/simulator/messages") {
      errors.push(`${r.status()} ${r.url()}`);
    }
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors, close: () => context.close() };
}

/** A field's label exactly, whether or not it carries the required mark. */
function exact(label: string): RegExp {
  return new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( \\*)?$`);
}

describe.skipIf(!haveBrowser)("the customer simulator in a browser", () => {
  it("sends an SMS and two emails in one thread; they land in the inbox as conversations", {
    timeout: 150_000,
  }, async () => {
    const w = await workspace();
    const { page, errors, close } = await openPage(w.cookie, { viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/inbox/simulator`);
    const form = page.locator("form.sim-form");
    await form.getByLabel(exact("Inbox")).selectOption(w.sms.id);
    await form.locator("[data-sim-how]").getByText("Twilio webhook").waitFor();
    await expectAccessible(page);

    // an address the server cannot read as a number: its message, and nothing stored
    await form.getByLabel(exact("Customer phone number")).fill("+1 (000) 000");
    await form.getByLabel(exact("Message")).fill("Hello?");
    await form.getByRole("button", { name: "Send as the customer" }).click();
    const refusal = form.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("simulator.invalid_address");
    expect((await listConversations(w.db, w.ws, {})).data).toHaveLength(0);

    // the SMS, through the inbox's signed Twilio webhook
    await form.getByLabel(exact("Customer phone number")).fill("+14155550123");
    await form.getByLabel(exact("Customer name (optional)")).fill("Ada Lovelace");
    await form.getByLabel(exact("Message")).fill("Is my order shipped?");
    await form.getByRole("button", { name: "Send as the customer" }).click();
    await form.getByRole("status").filter({ hasText: "Sent." }).waitFor();
    const logged = page.locator("[data-sim-message]");
    await logged.filter({ hasText: "Is my order shipped?" }).waitFor();

    // two emails: a new thread, then a reply in it
    await form.getByLabel(exact("Inbox")).selectOption(w.email.id);
    await form.getByLabel(exact("Customer email address")).fill("grace@example.com");
    await form.getByLabel(exact("Subject")).fill("Refund for order 77");
    await form.getByLabel(exact("Message")).fill("I would like a refund.");
    await form.getByRole("button", { name: "Send as the customer" }).click();
    await logged.filter({ hasText: "I would like a refund." }).waitFor();
    await form.getByLabel("Reply in the same thread").check();
    expect(await form.getByLabel(exact("Subject")).inputValue()).toBe("Re: Refund for order 77");
    await form.getByLabel(exact("Message")).fill("Any news on my refund?");
    await form.getByRole("button", { name: "Send as the customer" }).click();
    await logged.filter({ hasText: "Any news on my refund?" }).waitFor();
    await expectAccessible(page);

    const conversations = (await listConversations(w.db, w.ws, {})).data;
    expect(conversations.map((c) => [c.inboxId, c.contactAddress]).sort()).toEqual(
      [
        [w.email.id, "grace@example.com"],
        [w.sms.id, "+14155550123"],
      ].sort(),
    );
    const emailThread = conversations.find((c) => c.inboxId === w.email.id);
    const texts = (await listMessages(w.db, w.ws, emailThread?.id ?? "", { limit: 10 })).data.map(
      (m) => m.text,
    );
    expect(texts.map((t) => t.trim())).toEqual(["I would like a refund.", "Any news on my refund?"]);

    // the log's link opens the conversation in the inbox
    await logged.filter({ hasText: "Is my order shipped?" }).getByRole("link", { name: "Open" }).click();
    await page.locator(".message-inbound").filter({ hasText: "Is my order shipped?" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(
      `/inbox/c/${conversations.find((c) => c.inboxId === w.sms.id)?.id}`,
    );

    // both are in the inbox's list
    await page.goto(`${base}/inbox/`);
    await page.getByText("All", { exact: true }).click();
    const rows = page.locator("[data-conversation-id]");
    await rows.filter({ hasText: "+14155550123" }).waitFor();
    await rows.filter({ hasText: "grace@example.com" }).waitFor();
    expect(errors).toEqual([]);
    await close();
  });

  it("is accessible on a phone, the log included", { timeout: 90_000 }, async () => {
    const w = await workspace();
    const { page, errors, close } = await openPage(w.cookie, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await page.goto(`${base}/inbox/simulator`);
    const form = page.locator("form.sim-form");
    await form.getByLabel(exact("Inbox")).selectOption(w.sms.id);
    await form.getByLabel(exact("Message")).fill("Hi from my phone");
    await form.getByRole("button", { name: "Send as the customer" }).click();
    await page.locator("[data-sim-message]").filter({ hasText: "Hi from my phone" }).waitFor();
    await expectAccessible(page);
    await form.getByLabel(exact("Inbox")).selectOption(w.email.id);
    await form.getByLabel(exact("Subject")).waitFor();
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });
});
