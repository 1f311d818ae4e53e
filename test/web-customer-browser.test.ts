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

/** Opens one section of the 360 (a no-op when it is open already) and answers its body. */
async function openSection(page: Page, scope: string, key: string) {
  const item = page.locator(`${scope} [data-c360-section="${key}"]`);
  const control = item.locator("button").first();
  if ((await control.getAttribute("aria-expanded")) !== "true") await control.click();
  await expect.poll(() => control.getAttribute("aria-expanded")).toBe("true");
  return item;
}

/** Runs a flow; a failure carries what the screen showed then, so it can be read without a rerun. */
async function showingPage(page: Page, errors: string[], flow: () => Promise<void>): Promise<void> {
  try {
    await flow();
  } catch (err) {
    const shown = await page
      .locator("body")
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, the text as shown
      .innerText({ timeout: 2_000 })
      .catch(() => "(unreadable)");
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\n--- the screen showed:\n${shown.slice(0, 3000)}\n--- page errors: ${errors.join(" | ")}`,
      {
        cause: err,
      },
    );
  }
}

/** The customer paths the page asked the API for since `since`. */
function customerCalls(calls: string[], since: number): string[] {
  return calls.slice(since).filter((p) => p.startsWith("/api/v1/customers/"));
}

describe.skipIf(!haveBrowser)("the customer 360 in a browser", () => {
  it("desktop: the panel beside a conversation, section by section, then the customer page", {
    timeout: 150_000,
  }, async () => {
    const { page, errors } = await recordingPage(browser, { viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    const calls: string[] = [];
    page.on("request", (r) => calls.push(new URL(r.url()).pathname));
    await showingPage(page, errors, async () => {
      await signIn(page, base, world.email, world.password);

      const before = calls.length;
      await page.goto(`${base}/inbox/c/${world.conversations.sms}`);
      const panel = page.locator("aside.customer-pane");
      await panel.getByRole("heading", { name: "Dana Whitfield", level: 2 }).waitFor();
      // summary facts from the profile
      await expect
        .poll(() => panel.locator("[data-section=summary]").textContent())
        .toContain("+14155550123");
      expect(await panel.locator("[data-section=summary]").textContent()).toContain(
        "dana.whitfield@example.com",
      );
      expect(await panel.locator("[data-section=summary]").textContent()).toContain("pro");
      // where they are in their life with the brand: a user of the product, seen for the first time lately
      expect(await panel.locator("[data-lifecycle]").textContent()).toBe(
        "User · new (first seen in the last 30 days)",
      );

      // identities are open at once, on every channel, with the merges that brought them
      const identities = panel.locator("[data-section=identities]");
      await identities.waitFor();
      const rows = identities.locator("[data-identity-kind]");
      const kinds: string[] = [];
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        kinds.push(
          `${await row.getAttribute("data-identity-kind")}=${await row.locator("dd").textContent()}`,
        );
      }
      expect(kinds).toEqual(
        expect.arrayContaining([
          "phone=+14155550123",
          "email=dana.whitfield@example.com",
          "user_id=user-881",
          "anonymous_id=anon-42",
          "messenger_psid=psid-77001",
          "x_id=x-9001",
          "x_handle=@dana_w",
        ]),
      );
      expect(await identities.textContent()).toContain("Messenger (PSID)");
      const merges = panel.locator("[data-section=merges] li");
      await expect.poll(() => merges.count()).toBe(2);
      expect(await merges.first().textContent()).toMatch(/merged in/);
      // only the profile and its merges were asked for: the other sections wait to be opened
      const eager = customerCalls(calls, before);
      expect(eager.filter((p) => /\/(events|consent|deliveries|conversations)/.test(p))).toEqual([]);
      expect(eager.some((p) => p.endsWith("/merges"))).toBe(true);
      await expectAccessible(page);

      // traits: every one, long JSON folded until asked for
      const traits = await openSection(page, "aside", "traits");
      await traits.locator("[data-trait=plan]").filter({ hasText: "pro" }).waitFor();
      const address = traits.locator("[data-trait=address] details");
      expect(await address.getAttribute("open")).toBeNull();
      await address.locator("summary").click();
      await address.locator("pre").filter({ hasText: "12 Harbour Road" }).waitFor();

      // consent: SMS flash sales opted out (a glyph and words, not colour alone), email by default
      const consent = await openSection(page, "aside", "consent");
      const row = consent.locator("tr[data-topic=flash-sales]");
      await row.waitFor();
      const sms = row.locator("td[data-channel=sms] .c360-mark");
      expect(await sms.getAttribute("data-state")).toBe("out");
      expect(await sms.textContent()).toContain("✕");
      expect(await sms.textContent()).toContain("Opted out");
      expect(await row.locator("td[data-channel=email] .c360-mark").getAttribute("data-state")).toBe(
        "unknown",
      );
      const ledger = consent.locator("[data-section=ledger] li");
      await ledger.first().waitFor();
      expect(await ledger.first().textContent()).toContain("SMS · Flash sales: opted out");
      expect(await ledger.first().textContent()).toContain("via API");
      await expectAccessible(page);

      // events, newest first
      const events = await openSection(page, "aside", "events");
      await events.locator("[data-event='Order Completed']").waitFor();

      // deliveries: the email sent on the flash-sales topic
      const deliveries = await openSection(page, "aside", "deliveries");
      const sent = deliveries.locator("[data-section=deliveries] li").first();
      await sent.waitFor();
      expect(await sent.textContent()).toContain("Email · Topic flash-sales");
      expect(await sent.textContent()).toContain("Spring sale");

      // the other conversations, on the channels the merged profiles wrote from
      const others = await openSection(page, "aside", "conversations");
      const links = others.locator("[data-conversation-link]");
      await expect.poll(() => links.count()).toBe(2);
      expect(await others.locator(`[data-conversation-link="${world.conversations.sms}"]`).count()).toBe(0);
      expect(await others.textContent()).toContain("Messenger");
      expect(await others.textContent()).toContain("X");
      await expectAccessible(page);
      await others.locator(`[data-conversation-link="${world.conversations.messenger}"] a`).click();
      await page.waitForURL((u) => u.pathname === `/inbox/c/${world.conversations.messenger}`);
      await page.locator(".message-inbound").filter({ hasText: "Hello from Messenger" }).waitFor();

      // the customer page: the same, full width, main sections open
      await page.locator("aside").getByRole("link", { name: "Open customer page" }).click();
      await page.waitForURL((u) => u.pathname === `/inbox/customers/${world.customerId}`);
      await page.getByRole("heading", { name: "Dana Whitfield", level: 1 }).waitFor();
      const main = page.locator("main");
      await main.locator("[data-section=identities] [data-identity-kind=x_handle]").waitFor();
      await main.locator("tr[data-topic=flash-sales]").waitFor();
      await main.locator("[data-trait=plan]").waitFor();
      await expect.poll(() => main.locator("[data-conversation-link]").count()).toBe(3);
      await expectAccessible(page);
    });
    expect(errors).toEqual([]);
  });

  it("another workspace's customer, or a malformed id, is not shown", { timeout: 120_000 }, async () => {
    const { page } = await recordingPage(browser, { viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    await signIn(page, base, world.email, world.password);
    const asked: number[] = [];
    page.on("response", (r) => {
      if (new URL(r.url()).pathname.startsWith("/api/v1/customers/")) asked.push(r.status());
    });
    await page.goto(`${base}/inbox/customers/${world.strangerId}`);
    await page
      .getByRole("alert")
      .filter({ hasText: "There is no customer with this id in your workspace." })
      .waitFor();
    expect(await page.getByText("stranger@example.com").count()).toBe(0);
    // a refusal is final: asked once, not retried
    expect(asked).toEqual([404]);
    await expectAccessible(page);
    await page.goto(`${base}/inbox/customers/not-a-customer`);
    await page.getByRole("alert").filter({ hasText: "is not a customer id" }).waitFor();
  });

  it("phone (390×844): the panel opens over the conversation; the page fits", {
    timeout: 120_000,
  }, async () => {
    const { page, errors } = await recordingPage(browser, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    page.setDefaultTimeout(20_000);
    await signIn(page, base, world.email, world.password);
    await page.goto(`${base}/inbox/c/${world.conversations.sms}`);
    await page.locator(".message-inbound").first().waitFor();
    await page.getByRole("button", { name: "Customer", exact: true }).click();
    const panel = page.locator("aside.customer-pane");
    await panel.getByRole("heading", { name: "Dana Whitfield" }).waitFor();
    expect(await panel.isVisible()).toBe(true);
    await openSection(page, "aside", "consent");
    await panel.locator("tr[data-topic=flash-sales]").waitFor();
    await panel.locator("[data-section=ledger] li").first().waitFor();
    await expectAccessible(page);
    await page.goto(`${base}/inbox/customers/${world.customerId}`);
    await page.getByRole("heading", { name: "Dana Whitfield", level: 1 }).waitFor();
    await page.locator("main tr[data-topic=flash-sales]").waitFor();
    // nothing wider than the screen
    expect(Number(await page.evaluate("document.documentElement.scrollWidth"))).toBeLessThanOrEqual(390);
    await expectAccessible(page);
    expect(errors).toEqual([]);
  });
});
