import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { expectAccessible, recordingPage, signIn } from "./support/web-channels.ts";
import { customerWorld } from "./support/web-customer.ts";

let app: App;
let base: string;
let browser: Browser;
let world: Awaited<ReturnType<typeof customerWorld>>;

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "US" });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
  world = await customerWorld(app);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Types a query into the search box (replacing what was there) and waits for its answer. */
async function searchFor(page: Page, q: string): Promise<void> {
  const box = page.getByLabel("Search customers and conversations");
  await box.fill("");
  const answered = page.waitForResponse(
    (r) =>
      new URL(r.url()).pathname === "/api/v1/search" && new URL(r.url()).searchParams.get("q") === q.trim(),
  );
  await box.pressSequentially(q);
  expect((await answered).status()).toBe(200);
  // the address follows the box, so Back and reload keep the search
  await page.waitForURL((u) => u.searchParams.get("q") === q.trim());
}

const customerHit = (page: Page) => page.locator(`[data-customer-hit="${world.customerId}"]`);

describe.skipIf(!haveBrowser)("search in a browser", () => {
  it("desktop: email, national phone, X handle and message text find the right rows", {
    timeout: 150_000,
  }, async () => {
    const { page, errors } = await recordingPage(browser, { viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    const searches: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/v1/search") searches.push(u.searchParams.get("q") ?? "");
    });
    await signIn(page, base, world.email, world.password);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search" }).click();
    await page.waitForURL((u) => u.pathname === "/inbox/search");
    // the box has the keyboard at once
    const box = page.getByLabel("Search customers and conversations");
    const boxId = await box.getAttribute("id");
    expect(boxId).toMatch(/\S/);
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe(boxId);
    await expectAccessible(page);

    // one character: a hint, and nothing asked of the server
    await box.pressSequentially("d");
    await page
      .locator("[data-search-state=too-short]")
      .filter({ hasText: "at least 2 characters" })
      .waitFor();
    await page.waitForTimeout(600);
    expect(searches).toEqual([]);
    await expectAccessible(page);

    // by email: the customer, with what matched
    await searchFor(page, "dana.whitfield@example.com");
    await customerHit(page).waitFor();
    expect(await customerHit(page).textContent()).toContain("Matched on email");
    expect(await customerHit(page).locator("mark").first().textContent()).toBe("dana.whitfield@example.com");
    await expectAccessible(page);

    // by phone, as people type it at home
    await searchFor(page, "(415) 555-0123");
    await customerHit(page).filter({ hasText: "Matched on phone" }).waitFor();
    expect(await customerHit(page).textContent()).toContain("+14155550123");

    // by X handle
    await searchFor(page, "@dana_w");
    await customerHit(page).filter({ hasText: "Matched on an identity" }).waitFor();

    // by what was written: the conversation, its snippet marked (as text, not HTML)
    await searchFor(page, "parcel 5521");
    const conversation = page.locator(`[data-conversation-hit="${world.conversations.sms}"]`);
    await conversation.waitFor();
    expect(await conversation.textContent()).toContain("SMS");
    expect(await conversation.textContent()).toContain("Open");
    expect(await conversation.textContent()).toContain("Dana Whitfield");
    expect(await conversation.locator(".search-snippet mark").allTextContents()).toEqual(["parcel 5521"]);
    expect(await page.locator(`[data-conversation-hit="${world.conversations.messenger}"]`).count()).toBe(0);
    await expectAccessible(page);
    // it opens; Back returns to the same search
    await conversation.getByRole("link").click();
    await page.waitForURL((u) => u.pathname === `/inbox/c/${world.conversations.sms}`);
    await page.locator(".message-inbound").filter({ hasText: "My parcel 5521 never arrived" }).waitFor();
    await page.goBack();
    await page.waitForURL((u) => u.pathname === "/inbox/search" && u.searchParams.get("q") === "parcel 5521");
    expect(await box.inputValue()).toBe("parcel 5521");
    await conversation.waitFor();

    // the customer opens on their page (found by name this time)
    await searchFor(page, "Whitfield");
    await customerHit(page).getByRole("link").click();
    await page.waitForURL((u) => u.pathname === `/inbox/customers/${world.customerId}`);
    await page.getByRole("heading", { name: "Dana Whitfield", level: 1 }).waitFor();
    await page.goBack();
    await customerHit(page).waitFor();

    // nothing found says so; another workspace's customer is never found
    await searchFor(page, "stranger@example.com");
    await page.locator("[data-search-state=empty]").filter({ hasText: "Nothing matches" }).waitFor();
    expect(errors).toEqual([]);
  });

  it("the server's refusal is shown in its words", { timeout: 120_000 }, async () => {
    const { page } = await recordingPage(browser, { viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    await signIn(page, base, world.email, world.password);
    await page.route("**/api/v1/search?**", (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({
          error: { code: "search.unavailable", message: "Search is resting; try again soon." },
        }),
      }),
    );
    await page.goto(`${base}/inbox/search?q=refund`);
    await page
      .locator("[data-search-state=error]")
      .filter({ hasText: "Search is resting; try again soon." })
      .waitFor();
    expect(await page.getByLabel("Search customers and conversations").inputValue()).toBe("refund");
    await expectAccessible(page);
  });

  it("phone (390×844): results in one column, accessible", { timeout: 120_000 }, async () => {
    const { page, errors } = await recordingPage(browser, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    page.setDefaultTimeout(20_000);
    await signIn(page, base, world.email, world.password);
    await page.goto(`${base}/inbox/search?q=${encodeURIComponent("refund")}`);
    await page.locator(`[data-conversation-hit="${world.conversations.messenger}"]`).waitFor();
    expect(await page.locator(".search-snippet mark").first().textContent()).toBe("refund");
    expect(Number(await page.evaluate("document.documentElement.scrollWidth"))).toBeLessThanOrEqual(390);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });
});
