import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam } from "../src/conversations/assignment.ts";
import { getConversation, updateConversation } from "../src/conversations/conversations.ts";
import type { App } from "../src/http/app.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeTwilio, startFakeTwilio } from "./support/fake-twilio.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { smsWorkspace, TWILIO_ACCOUNT } from "./support/web-inbox.ts";
import {
  expectAccessible,
  holdRequests,
  inbound,
  listSize,
  rowIds,
  secondChannel,
  signedInPage,
} from "./support/web-list.ts";

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

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
/** Scrolls the list to `to` (an expression over the element `el`); answers where it is. */
async function scrollList(page: Page, to?: string): Promise<number> {
  const set = to === undefined ? "" : `el.scrollTop = ${to};`;
  return Number(
    await page.evaluate(
      `(() => { const el = document.querySelector("[role=listbox]"); ${set} return el.scrollTop; })()`,
    ),
  );
}
const row = (page: Page, id: string) => page.locator(`[data-conversation-id="${id}"]`);

/** The rows in sight, as the ids of `named` (unknown rows show as "?"). */
async function shown(page: Page, named: Record<string, string>): Promise<string[]> {
  const byId = new Map(Object.entries(named).map(([k, v]) => [v, k]));
  return (await rowIds(page)).map((id) => byId.get(id) ?? "?");
}

/** Waits until the list shows exactly these rows, in this order. */
async function expectRows(page: Page, named: Record<string, string>, expected: string[]) {
  await expect.poll(() => shown(page, named)).toEqual(expected);
}

/**
 * Five conversations that differ in every way the list can filter or sort by:
 * a (Ada, mine, urgent, three labels), b (unassigned, high, team Tier 2), c (WhatsApp, pending,
 * label billing), d (resolved), e (snoozed); the customers wrote in the order e, d, c, b, a.
 */
async function fiveConversations() {
  const s = await smsWorkspace(app, fake);
  const whatsapp = await secondChannel(app, s.ws);
  const team = await createTeam(s.db, s.ws, "Tier 2");
  const sms = (from: string, text: string, at: number, name?: string) =>
    inbound(app, s.ws, s.inbox.id, from, text, { at: minutesAgo(at), ...(name ? { name } : {}) });
  const e = await sms("+14155550005", "Snooze me", 50);
  const d = await sms("+14155550004", "Thanks, all good", 40);
  const c = await inbound(app, s.ws, whatsapp.id, "+14155550003", "Invoice question", { at: minutesAgo(30) });
  const b = await sms("+14155550002", "My parcel is late", 20);
  const a = await sms("+14155550001", "Refund please", 10, "Ada Lovelace");
  const ids = {
    a: a.conversationId,
    b: b.conversationId,
    c: c.conversationId,
    d: d.conversationId,
    e: e.conversationId,
  };
  await updateConversation(s.db, s.ws, ids.a, {
    assigneeId: s.user.id,
    priority: "urgent",
    labels: ["billing", "vip", "refund"],
  });
  await updateConversation(s.db, s.ws, ids.b, { priority: "high", teamId: team.id });
  await updateConversation(s.db, s.ws, ids.c, { status: "pending", labels: ["billing"] });
  await updateConversation(s.db, s.ws, ids.d, { status: "resolved" });
  await updateConversation(s.db, s.ws, ids.e, {
    status: "snoozed",
    snoozedUntil: new Date(Date.now() + 86_400_000).toISOString(),
  });
  return { s, ids, whatsapp, team };
}

describe.skipIf(!haveBrowser)("the conversation list in a browser", () => {
  it("views with counts, each filter and sort, remembered across visits", { timeout: 150_000 }, async () => {
    const { s, ids, whatsapp, team } = await fiveConversations();
    const { page, errors } = await signedInPage(app, browser, base, s);
    await page.goto(`${base}/inbox/`);

    // All, open ones, latest activity first; each view names its open and unread conversations
    await expectRows(page, ids, ["a", "b"]);
    const view = (v: string) => page.locator(`.lview[data-view="${v}"]`);
    await expect.poll(() => view("all").textContent()).toContain("2 open, 3 unread");
    await expect.poll(() => view("mine").textContent()).toContain("1 open, 1 unread");
    await expect.poll(() => view("unassigned").textContent()).toContain("1 open, 2 unread");

    // a row: the customer's name, channel, preview, priority, a few labels, the assignee, unread
    const ada = row(page, ids.a);
    const text = (await ada.textContent()) ?? "";
    for (const part of ["Ada Lovelace", "SMS", "Refund please", "Urgent", "billing", "vip", "+1", "AA"]) {
      expect(text).toContain(part);
    }
    expect(await ada.getAttribute("data-unread")).toBe("true");
    expect(await ada.locator(".visually-hidden").first().textContent()).toContain("Unread");
    expect(await row(page, ids.b).textContent()).toContain("+14155550002");
    await expectAccessible(page);

    // the views
    await page.getByText("Mine", { exact: true }).click();
    await expectRows(page, ids, ["a"]);
    await page.getByText("Unassigned", { exact: true }).click();
    await expectRows(page, ids, ["b"]);
    await page.getByText("All", { exact: true }).click();
    await expectRows(page, ids, ["a", "b"]);

    // status: several at once, one, or another
    await page.getByRole("button", { name: "Filters" }).click();
    await page.getByText("Pending", { exact: true }).click();
    await expectRows(page, ids, ["a", "b", "c"]);
    await page.getByText("Open", { exact: true }).click();
    await expectRows(page, ids, ["c"]);
    await page.getByText("Pending", { exact: true }).click();
    await page.getByText("Resolved", { exact: true }).click();
    await expectRows(page, ids, ["d"]);
    await page.getByText("Resolved", { exact: true }).click();
    await page.getByText("Snoozed", { exact: true }).click();
    await expectRows(page, ids, ["e"]);
    await page.getByText("Snoozed", { exact: true }).click();
    // no status chosen: every status
    await expectRows(page, ids, ["a", "b", "c", "d", "e"]);
    await expectAccessible(page);

    // inbox, channel, team, label, priority (over every status)
    const select = (label: string, value: string) =>
      page.getByLabel(label, { exact: true }).selectOption(value);
    await select("Inbox", whatsapp.id);
    await expectRows(page, ids, ["c"]);
    await select("Inbox", s.inbox.id);
    await expectRows(page, ids, ["a", "b", "d", "e"]);
    await select("Inbox", "");
    await select("Channel", "whatsapp");
    await expectRows(page, ids, ["c"]);
    await select("Channel", "");
    await select("Team", team.id);
    await expectRows(page, ids, ["b"]);
    await select("Team", "");
    await select("Label", "billing");
    await expectRows(page, ids, ["a", "c"]);
    await select("Label", "");
    await select("Priority", "high");
    await expectRows(page, ids, ["b"]);
    await select("Priority", "");

    // sorts: waiting longest first; newest conversation first; priority first
    await select("Sort", "waiting");
    await expectRows(page, ids, ["e", "d", "c", "b", "a"]);
    await select("Sort", "created");
    await expectRows(page, ids, ["a", "b", "c", "d", "e"]);
    await select("Sort", "priority");
    await expect.poll(async () => (await shown(page, ids)).slice(0, 2)).toEqual(["a", "b"]);

    // the agent's choice comes back on the next visit
    await page.getByText("Mine", { exact: true }).click();
    await select("Label", "billing");
    await expectRows(page, ids, ["a"]);
    await page.reload();
    await expectRows(page, ids, ["a"]);
    expect(await page.getByLabel("Label", { exact: true }).inputValue()).toBe("billing");
    expect(await page.getByRole("radio", { name: /Mine/ }).isChecked()).toBe(true);
    // clearing keeps the view and the sort, and goes back to the open conversations
    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await expectRows(page, ids, ["a"]);
    expect(errors).toEqual([]);
  });

  it("unread on a new SMS, cleared on open; live while filtered; nothing doubled after a reconnect", {
    timeout: 90_000,
  }, async () => {
    const s = await smsWorkspace(app, fake);
    const whatsapp = await secondChannel(app, s.ws);
    const { page, errors } = await signedInPage(app, browser, base, s);
    await page.goto(`${base}/inbox/`);
    await page.getByText("No conversations here.").waitFor();
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await page.getByRole("button", { name: "Filters" }).click();
    // no conversation yet: the channels offered are the inboxes'
    await page.getByLabel("Channel", { exact: true }).selectOption("sms");

    // live while filtered: the SMS shows, the WhatsApp message (another channel) does not
    await s.textIn("+14155550123", "Is the shop open on Sunday?");
    const sms = page.locator("[data-conversation-id]").filter({ hasText: "+14155550123" });
    await sms.waitFor();
    await inbound(app, s.ws, whatsapp.id, "+14155550124", "Hello from WhatsApp");
    await s.textIn("+14155550125", "Second SMS");
    await page.locator("[data-conversation-id]").filter({ hasText: "+14155550125" }).waitFor();
    expect(await page.locator("[data-conversation-id]").filter({ hasText: "+14155550124" }).count()).toBe(0);

    // unread: bold and a dot, said to screen readers; opening clears it at once (before the
    // server has answered: its answer is held here until the marker is gone) and on the server
    expect(await sms.getAttribute("data-unread")).toBe("true");
    expect(await sms.textContent()).toContain("Unread");
    const id = (await sms.getAttribute("data-conversation-id")) ?? "";
    const read = await holdRequests(page, "**/api/v1/conversations/*/read");
    await sms.click();
    await expect.poll(() => sms.getAttribute("data-unread")).toBe(null);
    expect(await sms.textContent()).not.toContain("Unread");
    // one read request for one opening (nothing else refetched the list meanwhile)
    expect(read.held()).toBe(1);
    await read.release();
    await expect
      .poll(async () => (await getConversation(s.db, s.ws, id, { userId: s.user.id })).unread)
      .toBe(false);
    expect(await sms.getAttribute("aria-selected")).toBe("true");
    // the customer writes again while the agent has it open: read again, on the server too
    await s.textIn("+14155550123", "Are you there?");
    await page.locator(".message-inbound").filter({ hasText: "Are you there?" }).waitFor();
    await expect
      .poll(async () => (await getConversation(s.db, s.ws, id, { userId: s.user.id })).unread)
      .toBe(false);
    expect(await sms.getAttribute("data-unread")).toBe(null);

    // the live feed drops; what arrives meanwhile shows once it is back, each conversation once
    await page.goto(`${base}/inbox/`);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    for (const client of app.websocketServer.clients) client.terminate();
    await page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor();
    await s.textIn("+14155550126", "While you were away");
    await s.textIn("+14155550123", "Hello again?");
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await page.locator("[data-conversation-id]").filter({ hasText: "+14155550126" }).waitFor();
    await expect.poll(() => listSize(page)).toBe(3);
    const ids = await rowIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(3);
    // the customer wrote again: unread again
    await expect.poll(() => sms.getAttribute("data-unread")).toBe("true");
    expect(errors).toEqual([]);
  });

  it("pages of 50 load as the agent scrolls; the keyboard moves and opens; a refetch keeps the place", {
    timeout: 120_000,
  }, async () => {
    const s = await smsWorkspace(app, fake);
    // 120 customers wrote, one a minute; n°0 last
    for (let i = 119; i >= 0; i--) {
      await inbound(app, s.ws, s.inbox.id, `+1415556${String(i).padStart(4, "0")}`, `Question ${i}`, {
        at: minutesAgo(i + 1),
      });
    }
    const { page, errors } = await signedInPage(app, browser, base, s, {
      viewport: { width: 1280, height: 800 },
    });
    await page.goto(`${base}/inbox/`);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await expect.poll(() => listSize(page)).toBe(50);
    // only the rows in sight are in the page
    expect((await rowIds(page)).length).toBeLessThan(40);

    // scrolling near the end of a page loads the next, to the end, each conversation once
    const list = page.getByRole("listbox");
    for (const expected of [100, 120]) {
      await scrollList(page, "el.scrollHeight");
      await expect.poll(() => listSize(page), { message: errors.join("; ") }).toBe(expected);
    }
    await scrollList(page, "el.scrollHeight");
    await page.locator("[data-conversation-id]").filter({ hasText: "Question 119" }).waitFor();

    // a new message moves its conversation to the top: the rows in sight stay in place
    await scrollList(page, String(84 * 40));
    await page.locator('[aria-posinset="41"]').waitFor();
    const topBefore = await page.locator('[aria-posinset="41"]').getAttribute("data-conversation-id");
    await s.textIn("+14155550999", "A brand new customer");
    await expect.poll(() => listSize(page)).toBe(121);
    await expect.poll(() => scrollList(page)).toBe(84 * 41);
    expect(await page.locator('[aria-posinset="42"]').getAttribute("data-conversation-id")).toBe(topBefore);

    // the keyboard: the list takes the focus, J/K and the arrows move, Enter opens
    await scrollList(page, "0");
    await list.focus();
    // the position of the row the focused listbox points at
    const active = async () => {
      const id = await page.evaluate(
        'document.activeElement && document.activeElement.getAttribute("aria-activedescendant")',
      );
      return typeof id === "string" ? page.locator(`[id="${id}"]`).getAttribute("aria-posinset") : null;
    };
    await expect.poll(active).toBe("1");
    await page.keyboard.press("j");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    await expect.poll(active).toBe("3");
    await page.keyboard.press("End");
    await expect.poll(active).toBe("121");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowDown");
    await expect.poll(active).toBe("2");
    const second = await page.locator('[aria-posinset="2"]').getAttribute("data-conversation-id");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === `/inbox/c/${second}`);
    await expect.poll(() => page.locator('[aria-posinset="2"]').getAttribute("aria-selected")).toBe("true");
    expect(errors).toEqual([]);
  });

  it("a filter the server refuses says why and offers a way back; axe on a phone", {
    timeout: 60_000,
  }, async () => {
    const s = await smsWorkspace(app, fake);
    await s.textIn("+14155550131", "Hi from a phone test");
    const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
    const { page, errors } = await signedInPage(app, browser, base, s, phone);
    // a remembered filter from another workspace or a hand edit: not an inbox id at all
    const stored = JSON.stringify({
      view: "all",
      filters: { status: ["open"], inboxId: "not-an-inbox", sort: "last_message" },
    });
    await page.addInitScript(
      `localStorage.setItem(${JSON.stringify(`rapport.inbox.list.${s.user.id}`)}, ${JSON.stringify(stored)})`,
    );
    await page.goto(`${base}/inbox/`);
    const alert = page.getByRole("alert").filter({ hasText: "The server refused this list" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("inboxId");
    await expectAccessible(page);
    await page.evaluate("localStorage.clear()");
    await alert.getByRole("button", { name: "Clear filters" }).click();
    await page.locator("[data-conversation-id]").filter({ hasText: "+14155550131" }).waitFor();

    // the phone: views, filters and rows fit the width; axe with the filters open
    await page.getByRole("button", { name: "Filters" }).click();
    await page.getByLabel("Priority", { exact: true }).waitFor();
    expect(Number(await page.evaluate("document.documentElement.scrollWidth"))).toBeLessThanOrEqual(390);
    await expectAccessible(page);
    await page.locator("[data-conversation-id]").first().click();
    await page.waitForURL((u) => u.pathname.startsWith("/inbox/c/"));
    expect(await page.getByRole("navigation", { name: "Conversations" }).isVisible()).toBe(false);
    expect(errors).toEqual([]);
  });
});
