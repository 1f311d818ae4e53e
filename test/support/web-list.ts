import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { z } from "zod";
import { receiveInbound } from "../../src/conversations/inbound.ts";
import { createInbox } from "../../src/conversations/inboxes.ts";
import type { App } from "../../src/http/app.ts";
import { TWILIO_ACCOUNT } from "./web-inbox.ts";

export { expectAccessible } from "./axe.ts";

/** A browser page signed in as the agent (the session cookie from the sign-in API). */
export async function signedInPage(
  app: App,
  browser: Browser,
  base: string,
  who: { email: string; password: string },
  options: BrowserContextOptions = { viewport: { width: 1280, height: 800 } },
): Promise<{ page: Page; errors: string[] }> {
  const payload = { email: who.email, password: who.password };
  const res = await app.inject({ method: "POST", url: "/api/v1/auth/login", payload });
  const session = res.cookies.find((c) => c.name === "rapport_session");
  if (!session) throw new Error(`sign-in failed: ${res.body}`);
  const context = await browser.newContext(options);
  await context.addCookies([{ name: session.name, value: session.value, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    // browsers ask for /favicon.ico on their own; a refused filter is what one test is about
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && path !== "/favicon.ico" && !r.url().includes("inboxId=not-an-inbox"))
      errors.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}

/**
 * Holds the page's requests to `url` (a Playwright glob) until `release`: shows what the page
 * does before the server answers, without timing it. `held` counts the requests it has held.
 */
export async function holdRequests(page: Page, url: string) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const handled: Promise<void>[] = [];
  await page.route(url, (route) => {
    const passed = gate.then(() => route.continue());
    handled.push(passed);
    return passed;
  });
  return {
    held: () => handled.length,
    /** Lets the held requests go on to the server, and stops holding. */
    async release() {
      open();
      await Promise.all(handled);
      await page.unroute(url);
    },
  };
}

/** A WhatsApp inbox beside the SMS one, and a way to post a customer's message into either. */
export async function secondChannel(app: App, ws: string) {
  const db = app.ctx.database.db;
  const whatsapp = await createInbox(db, ws, {
    kind: "whatsapp",
    name: "WhatsApp line",
    address: "+14155550111",
    config: TWILIO_ACCOUNT,
  });
  return whatsapp;
}

/** A customer's message into an inbox, at a given time (so the list's order is known). */
export async function inbound(
  app: App,
  ws: string,
  inboxId: string,
  from: string,
  text: string,
  opts: { at?: Date; name?: string } = {},
) {
  return receiveInbound(
    app.ctx.database.db,
    ws,
    {
      inboxId,
      from: [{ kind: "phone", value: from }],
      contactAddress: from,
      text,
      ...(opts.name ? { traits: { name: opts.name } } : {}),
      ...(opts.at ? { receivedAt: opts.at } : {}),
    },
    { defaultCountry: "US" },
  );
}

/** The conversation ids of the rows rendered now, top to bottom. */
export async function rowIds(page: Page): Promise<string[]> {
  const found =
    await page.evaluate(`JSON.stringify([...document.querySelectorAll("[role=option][data-conversation-id]")]
    .map((e) => [Number(e.getAttribute("data-index")), e.getAttribute("data-conversation-id")]))`);
  const pairs = z.array(z.tuple([z.number(), z.string()])).parse(JSON.parse(String(found)));
  return pairs.sort((a, b) => a[0] - b[0]).map((p) => p[1]);
}

/** How many rows the list holds (loaded, not only rendered): every option says it. */
export async function listSize(page: Page): Promise<number> {
  const first = page.locator("[role=option][aria-setsize]").first();
  if ((await first.count()) === 0) return 0;
  return Number(await first.getAttribute("aria-setsize"));
}
