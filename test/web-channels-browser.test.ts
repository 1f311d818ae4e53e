import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { getConversation, listMessages } from "../src/conversations/conversations.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { closeSmtpTransports } from "../src/delivery/providers/smtp.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeGraph, metaFixture, signMeta, startFakeGraph } from "./support/fake-graph.ts";
import { type FakeSmtp, startFakeSmtp } from "./support/fake-smtp.ts";
import { type FakeTwilio, startFakeTwilio } from "./support/fake-twilio.ts";
import { waitFor } from "./support/job-helpers.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import {
  agentWorkspace,
  expectAccessible,
  insertCanned,
  recordingPage,
  signIn,
} from "./support/web-channels.ts";
import { smsInbox, TWILIO_ACCOUNT } from "./support/web-inbox.ts";
import { chatInbox } from "./support/widget-client.ts";
import { type HostSite, hostSite } from "./support/widget-host.ts";

// The acceptance flow on every kind of channel: a customer writes through the channel's real
// inbound path, the message shows in the agent's open list within a second without reload, the
// agent answers with a canned response personalised from the profile, the (fake) provider
// receives that text on the channel's own thread, and the agent resolves.

let app: App;
let base: string;
let browser: Browser;
let twilio: FakeTwilio;
let graph: FakeGraph;
let smtp: FakeSmtp;
const sites: HostSite[] = [];
const PAGE_TOKEN = "EAAGm0PX4ZCpsBO7ZBfake0page0token";
const APP_SECRET = "meta-app-secret-7f3a";

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  twilio = await startFakeTwilio(TWILIO_ACCOUNT);
  graph = await startFakeGraph(PAGE_TOKEN);
  smtp = await startFakeSmtp();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const site of sites) await site.close();
  await app?.close();
  await twilio?.close();
  await graph?.close();
  closeSmtpTransports();
  await smtp?.close();
});

type Agent = Awaited<ReturnType<typeof agentWorkspace>>;

/** An agent's page, signed in, on the inbox; its console is checked at the end. */
async function agentPage(a: Agent): Promise<{ page: Page; errors: string[] }> {
  const opened = await recordingPage(browser, { viewport: { width: 1280, height: 800 } });
  opened.page.setDefaultTimeout(10_000);
  await signIn(opened.page, base, a.email, a.password);
  await opened.page.evaluate(() => Object.assign(globalThis, { __sameDocument: true }));
  return opened;
}

/** Waits for the row of `who` to show in the open list within a second of `since`, then opens it. */
async function openWhenListed(page: Page, who: string, since: number): Promise<string> {
  const row = page.locator("[data-conversation-id]").filter({ hasText: who });
  await row.first().waitFor({ timeout: 1_000 });
  expect(Date.now() - since).toBeLessThan(1_000);
  expect(await page.evaluate(() => "__sameDocument" in globalThis)).toBe(true);
  await row.first().click();
  return waitFor("the conversation's address", () => {
    const m = /\/inbox\/c\/([^/]+)$/.exec(new URL(page.url()).pathname);
    return m?.[1];
  });
}

/** Sends what the composer holds, runs the reply's delivery as the worker would, and answers its state. */
async function sendAndDeliver(
  page: Page,
  a: Agent,
  conversationId: string,
  text: string,
): Promise<string | undefined> {
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.locator(".message-outbound").filter({ hasText: text }).first().waitFor();
  const deliveryId = await waitFor("the reply's delivery", async () => {
    const messages = await listMessages(a.db, a.ws, conversationId, { limit: 50 });
    return messages.data.find((m) => m.direction === "outbound" && m.text === text)?.deliveryId ?? undefined;
  });
  return runDelivery(a.db, a.ws, deliveryId);
}

async function resolve(page: Page, a: Agent, conversationId: string): Promise<void> {
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Resolved" }).waitFor();
  // the header shows it at once (optimistically); the server has it when the request returns
  await expect.poll(async () => (await getConversation(a.db, a.ws, conversationId)).status).toBe("resolved");
}

describe.skipIf(!haveBrowser)("every channel in the agent's browser", () => {
  it("SMS: live in the list, a canned answer personalised, Twilio receives it, resolved", {
    timeout: 90_000,
  }, async () => {
    const a = await agentWorkspace(app);
    const sms = await smsInbox(app, twilio, a.ws);
    await identify(a.db, a.ws, {
      identifiers: [{ kind: "phone", value: "+14155550131" }],
      traits: { first_name: "Grace", last_name: "Hopper" },
      reason: "test",
      defaultCountry: "US",
    });
    const { page, errors } = await agentPage(a);
    const since = Date.now();
    await sms.textIn("+14155550131", "My playlist vanished after the update");
    const conversationId = await openWhenListed(page, "Grace Hopper", since);
    await page.locator(".message-inbound").filter({ hasText: "My playlist vanished" }).waitFor();
    const text = "Hi Grace, it is fixed now. Alex from Melodia";
    await insertCanned(page, "fix", text);
    expect(await sendAndDeliver(page, a, conversationId, text)).toBe("sent");
    const sent = twilio.messages.filter((m) => m.form.Body === text);
    expect(sent.map((m) => m.form)).toMatchObject([{ To: "+14155550131", From: "+14155550100", Body: text }]);
    await resolve(page, a, conversationId);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });

  it("email: the reply threads in the customer's mail client", { timeout: 90_000 }, async () => {
    const a = await agentWorkspace(app);
    await getMessagingSettings(a.db, a.ws);
    await setProvider(a.db, a.ws, "email", "smtp", {
      host: smtp.host,
      port: smtp.port,
      secure: false,
      from: "Melodia <support@melodia.example>",
      timeoutMs: 5000,
    });
    const inbox = await createInbox(a.db, a.ws, {
      kind: "email",
      name: "Support",
      address: "support@melodia.example",
    });
    const { page, errors } = await agentPage(a);
    const raw = [
      "From: Ada Lovelace <ada@example.com>",
      "To: support@melodia.example",
      "Cc: Bob Stone <bob@example.com>",
      "Subject: Double charge on my invoice",
      "Message-ID: <m1-ada@mail.example.com>",
      "Date: Tue, 24 Nov 2026 09:00:00 +0000",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "I was charged twice this month.",
      "",
    ].join("\r\n");
    await identify(a.db, a.ws, {
      identifiers: [{ kind: "email", value: "ada@example.com" }],
      traits: { first_name: "Ada", name: "Ada Lovelace" },
      reason: "test",
      defaultCountry: "US",
    });
    const since = Date.now();
    const posted = await app.inject({
      method: "POST",
      url: `/api/v1/inboxes/${inbox.id}/email`,
      headers: { authorization: `Bearer ${a.secretKey}`, "content-type": "message/rfc822" },
      payload: raw,
    });
    expect(posted.statusCode, posted.body).toBe(200);
    const conversationId = await openWhenListed(page, "Ada Lovelace", since);
    await page.locator(".message-inbound").filter({ hasText: "charged twice" }).first().waitFor();
    // the composer fits email: the threaded subject, and the customer's other recipient kept in copy
    expect(await page.getByLabel("Subject").inputValue()).toBe("Re: Double charge on my invoice");
    const cc = page.getByRole("combobox", { name: "Cc" });
    await page.locator(".email-fields").getByText("bob@example.com").waitFor();
    // an address that is none is refused on the spot; a good one joins the copies
    await cc.fill("not-an-address");
    await cc.press("Enter");
    await page.getByText('"not-an-address" is not an email address.').waitFor();
    await cc.fill("finance@example.com");
    await cc.press("Enter");
    await page.locator(".email-fields").getByText("finance@example.com").waitFor();
    expect(await page.getByText('"not-an-address" is not an email address.').count()).toBe(0);
    const text = "Hi Ada, it is fixed now. Alex from Melodia";
    await insertCanned(page, "fixed", text);
    // the draft keeps the copies as the agent left them
    await page.reload();
    await page.locator(".email-fields").getByText("finance@example.com").waitFor();
    expect(await page.getByLabel("Your reply").inputValue()).toBe(text);
    expect(await sendAndDeliver(page, a, conversationId, text)).toBe("sent");
    const [mail] = await smtp.waitFor(1);
    const header = (name: string) =>
      new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(mail?.rawHeaders ?? "")?.[1];
    expect(header("Subject")).toBe("Re: Double charge on my invoice");
    expect(header("In-Reply-To")).toBe("<m1-ada@mail.example.com>");
    expect(header("To")).toContain("ada@example.com");
    expect(header("Cc")).toBe("bob@example.com, finance@example.com");
    expect(mail?.text).toContain(text);
    await resolve(page, a, conversationId);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });

  it("a Facebook comment: answered publicly under the post", { timeout: 90_000 }, async () => {
    const a = await agentWorkspace(app);
    const inbox = await createInbox(a.db, a.ws, {
      kind: "messenger",
      name: "Facebook page",
      address: "109876543210987",
      config: {
        appSecret: APP_SECRET,
        verifyToken: "verify",
        pageAccessToken: PAGE_TOKEN,
        graphBaseUrl: graph.graphBaseUrl,
      },
    });
    await identify(a.db, a.ws, {
      identifiers: [{ kind: "messenger_psid", value: "7012345678901234" }],
      traits: { first_name: "Sam", name: "Sam Rivera" },
      reason: "test",
      defaultCountry: "US",
    });
    const { page, errors } = await agentPage(a);
    const body = metaFixture("feed-comment");
    const since = Date.now();
    const posted = await app.inject({
      method: "POST",
      url: `/webhooks/meta/${a.ws}/inbox/${inbox.id}`,
      headers: { "content-type": "application/json", "x-hub-signature-256": signMeta(body, APP_SECRET) },
      payload: body,
    });
    expect(posted.statusCode, posted.body).toBe(200);
    const conversationId = await openWhenListed(page, "Sam Rivera", since);
    await page.locator(".message-inbound").filter({ hasText: "The app crashes" }).first().waitFor();
    // a comment is answered where it was written unless the agent asks for a private reply
    await page.getByRole("radio", { name: /Public/ }).check();
    const text = "Hi Sam, it is fixed now. Alex from Melodia";
    await insertCanned(page, "fixed", text);
    const from = graph.requests.length;
    expect(await sendAndDeliver(page, a, conversationId, text)).toBe("sent");
    expect(graph.requests.slice(from)).toMatchObject([
      {
        method: "POST",
        path: "/v21.0/122134567890123456_1098765432109876/comments",
        json: { message: text },
      },
    ]);
    await resolve(page, a, conversationId);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });

  it("the chat widget: customer and agent in two browsers, live both ways", {
    timeout: 120_000,
  }, async () => {
    const a = await agentWorkspace(app);
    const inbox = await chatInbox(a.db, a.ws);
    const site = await hostSite(base, { workspaceId: a.ws, inboxId: inbox.id });
    sites.push(site);
    const { page, errors } = await agentPage(a);

    const customer = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await customer.goto(site.url);
    await customer.getByRole("button", { name: "Open chat" }).click();
    const frame = customer.frameLocator("#rapport-chat-frame");
    const composer = frame.getByRole("textbox", { name: "Write a message" });
    await expect.poll(() => composer.isVisible(), { timeout: 15_000 }).toBe(true);
    await composer.fill("Is the live concert stream working?");
    const since = Date.now();
    await composer.press("Enter");
    // an anonymous visitor is listed by the visitor id the widget gave them, with what they wrote
    const row = page.locator("[data-conversation-id]").filter({ hasText: "live concert stream" });
    await row.first().waitFor({ timeout: 1_000 });
    expect(Date.now() - since).toBeLessThan(1_000);
    // a widget conversation is named for what it is: a chat
    expect(await row.first().locator(".lrow-channel").textContent()).toMatch(/^Chat · #\d+$/);
    await row.first().click();
    const conversationId = await waitFor("the conversation's address", () => {
      const m = /\/inbox\/c\/([^/]+)$/.exec(new URL(page.url()).pathname);
      return m?.[1];
    });
    await page.locator(".message-inbound").filter({ hasText: "live concert stream" }).waitFor();

    const text = "Hi there, it is fixed now. Alex from Melodia";
    await insertCanned(page, "fixed", text);
    expect(await sendAndDeliver(page, a, conversationId, text)).toBe("sent");
    await expect.poll(() => frame.getByText(text).isVisible()).toBe(true);

    // the customer answers: the agent's open conversation shows it live
    await composer.fill("Thanks, it plays now!");
    await composer.press("Enter");
    await page.locator(".message-inbound").filter({ hasText: "it plays now" }).waitFor({ timeout: 2_000 });
    await resolve(page, a, conversationId);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });
});
