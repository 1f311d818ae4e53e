import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { getConversation, listConversations } from "../src/conversations/conversations.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { waitFor } from "./support/job-helpers.ts";
import { chatInbox } from "./support/widget-client.ts";
import { type HostSite, hostSite } from "./support/widget-host.ts";

let db: Db;
let app: App;
let base: string;
let browser: Browser;
const sites: HostSite[] = [];

beforeAll(async () => {
  if (!haveBrowser) return;
  db = (await testDatabase()).db;
  app = await testApp();
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const site of sites) await site.close();
  await app?.close();
});

async function phonePage(locale: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale,
  });
  return context.newPage();
}

/** The reply an agent writes through the REST API, delivered as the worker would. */
async function agentReplies(
  secretKey: string,
  ws: string,
  conversationId: string,
  text: string,
): Promise<string> {
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${secretKey}` },
    payload: { text },
  });
  expect(res.statusCode, res.body).toBe(201);
  const deliveryId: string = res.json().delivery.deliveryId;
  expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
  return deliveryId;
}

describe.skipIf(!haveBrowser)("the chat widget on a brand's page, on a phone", () => {
  it("chats live: the visitor writes, sees the agent typing and the reply without reloading, then signs in", {
    timeout: 90_000,
  }, async () => {
    const t = await createTestWorkspace();
    const ws = t.workspace.id;
    const inbox = await chatInbox(db, ws);
    const known = await identify(db, ws, {
      identifiers: [
        { kind: "user_id", value: "u-42" },
        { kind: "email", value: "lea@melodia.example" },
      ],
      reason: "test",
      defaultCountry: "FR",
    });
    const site = await hostSite(base, { workspaceId: ws, inboxId: inbox.id });
    sites.push(site);
    const page = await phonePage("en-US");
    // the frame's strict CSP, a script error or a failed call would show up here
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("response", (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(site.url);
    const launcher = page.getByRole("button", { name: "Open chat" });
    await launcher.click();
    const frame = page.frameLocator("#rapport-chat-frame");
    const composer = frame.getByRole("textbox", { name: "Write a message" });
    await expect.poll(() => composer.isVisible(), { timeout: 15_000 }).toBe(true);
    // the frame covers the phone's screen
    const box = await page.locator("#rapport-chat-frame").boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 844 });
    await expectAccessible(page);

    await composer.fill("Hi, my subscription was charged twice");
    await composer.press("Enter");
    const conversationId = await waitFor("the conversation", async () => {
      const found = await listConversations(db, ws, { inboxId: inbox.id });
      return found.data[0]?.id;
    });
    await expect.poll(() => frame.getByText("Hi, my subscription was charged twice").isVisible()).toBe(true);

    const typing = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${conversationId}/typing`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(typing.statusCode).toBe(204);
    await expect.poll(() => frame.getByText("Support is typing…").isVisible()).toBe(true);

    const deliveryId = await agentReplies(
      t.secretKey,
      ws,
      conversationId,
      "Sorry about that! Refunding it now.",
    );
    await expect.poll(() => frame.getByText("Sorry about that! Refunding it now.").isVisible()).toBe(true);
    await expect.poll(() => frame.getByText("Support is typing…").count()).toBe(0);
    // shown to an open, visible widget: acknowledged as seen
    await waitFor("the seen reply", async () => (await getDelivery(db, ws, deliveryId)).state === "opened");
    await expectAccessible(page);

    // the brand's page signs the visitor in: the anonymous visitor joins the known customer
    const settings = await getMessagingSettings(db, ws);
    const userHash = appUserHash(settings.identitySecret, "u-42");
    await page.evaluate(`window.RapportChat.identify(${JSON.stringify({ userId: "u-42", userHash })})`);
    await waitFor(
      "the merge",
      async () => (await getConversation(db, ws, conversationId)).customerId === known.customerId,
    );
    await expect
      .poll(() => frame.getByRole("tab", { name: "Messages" }).isVisible(), { timeout: 15_000 })
      .toBe(true);
    await expect.poll(() => frame.getByText("Sorry about that! Refunding it now.").isVisible()).toBe(true);
    await agentReplies(t.secretKey, ws, conversationId, "Done: you will see it within 3 days.");
    await expect.poll(() => frame.getByText("Done: you will see it within 3 days.").isVisible()).toBe(true);
    await expectAccessible(page);

    // closing gives the page back, with the focus on the launcher
    await frame.getByRole("button", { name: "Close chat" }).click();
    await expect.poll(() => page.locator("#rapport-chat-frame").isVisible()).toBe(false);
    await expect
      .poll(() => page.evaluate("document.activeElement?.getAttribute('aria-controls')"))
      .toBe("rapport-chat-frame");
    expect(errors).toEqual([]);
  });

  it("speaks French to a French browser and offers to continue by email when nobody is online", {
    timeout: 60_000,
  }, async () => {
    const t = await createTestWorkspace();
    const ws = t.workspace.id;
    const inbox = await chatInbox(db, ws);
    const site = await hostSite(base, { workspaceId: ws, inboxId: inbox.id });
    sites.push(site);
    const page = await phonePage("fr-FR");
    await page.goto(site.url);
    await page.getByRole("button", { name: "Ouvrir le chat" }).click();
    const frame = page.frameLocator("#rapport-chat-frame");
    const composer = frame.getByRole("textbox", { name: "Écrire un message" });
    await expect.poll(() => composer.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await frame.locator("html").getAttribute("lang")).toBe("fr");
    await composer.fill("Bonjour ?");
    await frame.getByRole("button", { name: "Envoyer" }).click();
    const email = frame.getByRole("textbox", { name: "Votre e-mail" });
    await expect.poll(() => email.isVisible()).toBe(true);
    await expectAccessible(page);
    await email.fill("nuit@melodia.example");
    await frame.getByRole("button", { name: "Me répondre par e-mail" }).click();
    await expect
      .poll(() => frame.getByText("Merci ! Nous vous répondrons à nuit@melodia.example.").isVisible())
      .toBe(true);
  });
});
