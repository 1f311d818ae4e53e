import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consentLedger, consentOverview } from "../src/consent/ledger.ts";
import { preferenceLinks } from "../src/consent/preference-links.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { getTopicByKey } from "../src/consent/topics.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

let db: Db;
let app: App;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!haveBrowser) return;
  db = (await testDatabase()).db;
  app = await testApp();
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function phonePage(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: "fr-FR",
  });
  return context.newPage();
}

describe.skipIf(!haveBrowser)("the preference center in a phone browser", () => {
  it("changes a topic, records it in the ledger, and passes axe on every page it shows", {
    timeout: 60_000,
  }, async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const settings = await getMessagingSettings(db, ws);
    const { customerId } = await identify(db, ws, {
      identifiers: [{ kind: "email", value: "lea@example.fr" }],
      traits: { first_name: "Léa" },
      reason: "test",
      defaultCountry: "FR",
    });
    const news = await getTopicByKey(db, ws, "news");
    const links = preferenceLinks(settings, base, {
      workspaceId: ws,
      customerId,
      channel: "email",
      topicId: news.id,
    });
    const before = await consentOverview(db, ws, customerId);
    const cell = (o: typeof before) => o.topics.find((t) => t.key === "news")?.channels.email?.subscribed;
    expect(cell(before)).toBe(true);

    const page = await phonePage();
    await page.goto(links.preferences);
    // French, from the browser's language
    expect(await page.getAttribute("html", "lang")).toBe("fr");
    await expectAccessible(page);
    const box = page.locator(`input[name="sub"][value="email:${news.id}"]`);
    await expect.poll(() => box.isChecked()).toBe(true);
    await box.uncheck();
    await page.locator("form button[type=submit]").last().click();
    await page.waitForLoadState("load");
    await expectAccessible(page);
    expect(cell(await consentOverview(db, ws, customerId))).toBe(false);
    const ledger = await consentLedger(db, ws, customerId, { limit: 10 });
    expect(ledger.data[0]).toMatchObject({
      channel: "email",
      topicId: news.id,
      status: "unsubscribed",
      source: "preference_center",
    });

    // the unsubscribe confirmation and the page for a link that no longer works
    await page.goto(links.unsubscribe);
    await expectAccessible(page);
    const broken = await page.goto(`${base}/preferences/not-a-token`);
    expect(broken?.status()).toBe(403);
    await expectAccessible(page);
  });
});
