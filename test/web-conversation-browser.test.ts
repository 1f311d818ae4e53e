import { sql } from "drizzle-orm";
import type { Browser, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam } from "../src/conversations/assignment.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { rows } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeTwilio, startFakeTwilio } from "./support/fake-twilio.ts";
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
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.close();
});

/**
 * A workspace with two agents, a team, and one customer's two SMS conversations; the first
 * agent's browser is signed in (its clock in Paris, so times typed there are Paris times).
 */
async function setup(options: BrowserContextOptions) {
  const s = await smsWorkspace(app, fake);
  const bea = await createUser(s.db, {
    workspaceId: s.ws,
    email: `bea-${s.user.id.slice(-8)}@example.com`,
    name: "Bea Second",
    role: "agent",
    status: "active",
    passwordHash: await hashPassword(s.password),
  });
  const team = await createTeam(s.db, s.ws, "Billing");
  const phone = "+14155550142";
  const first = await receiveInbound(
    s.db,
    s.ws,
    {
      inboxId: s.inbox.id,
      from: [{ kind: "phone", value: phone }],
      contactAddress: phone,
      text: "My parcel is late.",
    },
    { defaultCountry: "US" },
  );
  const second = await receiveInbound(
    s.db,
    s.ws,
    {
      inboxId: s.inbox.id,
      from: [{ kind: "phone", value: phone }],
      contactAddress: phone,
      text: "And my invoice is wrong.",
      threadKey: "invoice",
    },
    { defaultCountry: "US" },
  );
  expect(second.conversationId).not.toBe(first.conversationId);
  const login = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email: s.email, password: s.password },
  });
  const session = login.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!session) throw new Error(`sign-in failed: ${login.body}`);
  const context = await browser.newContext({ ...options, timezoneId: "Europe/Paris" });
  await context.addCookies([{ name: "rapport_session", value: session, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const read = async (id: string) => {
    const res = await app.inject({
      method: "GET",
      url: `/api/v1/conversations/${id}`,
      headers: { authorization: `Bearer ${s.secretKey}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  return {
    ...s,
    bea,
    team,
    phone,
    first: first.conversationId,
    second: second.conversationId,
    page,
    errors,
    read,
  };
}

/** Waits until the conversation, read back through the API, satisfies `check`. */
async function until(
  read: () => Promise<Record<string, unknown>>,
  check: (c: Record<string, unknown>) => boolean,
) {
  await expect.poll(async () => check(await read())).toBe(true);
  return read();
}

describe.skipIf(!haveBrowser)("the open conversation's header, in a browser", () => {
  it("desktop: every action round-trips to the server; shortcuts; axe with menus and dialogs open", {
    timeout: 150_000,
  }, async () => {
    const s = await setup({ viewport: { width: 1280, height: 800 } });
    const { page } = s;
    const read = () => s.read(s.first);
    await page.goto(`${base}/inbox/c/${s.first}`);
    const head = page.locator(".conversation-head");
    // a shortcut pressed on the page, once any menu or dialog has finished closing (keys pressed
    // while a menu, popover or dialog is still open belong to it, not to the page)
    const shortcut = async (key: string) => {
      await expect
        .poll(() => page.locator("[role=dialog], [data-menu-dropdown], .mantine-Popover-dropdown").count())
        .toBe(0);
      await head.getByRole("heading").focus();
      await page.keyboard.press(key);
    };
    await head.getByRole("heading", { name: s.phone }).waitFor();
    await expect.poll(() => head.textContent()).toContain("SMS");
    await expect.poll(() => head.textContent()).toMatch(/#\d+/);
    await expectAccessible(page, "conversation");

    // assign: to me, to another agent, to nobody
    await head.getByRole("button", { name: "Unassigned" }).click();
    await page.getByRole("menuitem", { name: "Assign to me" }).waitFor();
    await expectAccessible(page, "assign menu");
    await page.getByRole("menuitem", { name: "Assign to me" }).click();
    await until(read, (c) => c.assigneeId === s.user.id);
    await head.getByRole("button", { name: "Assigned to Alex Agent" }).click();
    await page.getByRole("menuitem", { name: "Bea Second" }).click();
    await until(read, (c) => c.assigneeId === s.bea.id);
    await head.getByRole("button", { name: "Assigned to Bea Second" }).click();
    await page.getByRole("menuitem", { name: "Unassign" }).click();
    await until(read, (c) => c.assigneeId === null);

    // the `a` shortcut assigns to me (the keyboard is on the page, not in a field)
    await shortcut("a");
    await until(read, (c) => c.assigneeId === s.user.id);

    // team
    await head.getByRole("button", { name: "Team", exact: true }).click();
    await page.getByRole("menuitem", { name: "Billing" }).click();
    await until(read, (c) => c.teamId === s.team.id);
    await head.getByRole("button", { name: "Team: Billing" }).waitFor();

    // labels: `l` opens the picker; a new label is created by typing it
    await shortcut("l");
    const labels = page.getByRole("combobox", { name: "Labels of this conversation" });
    await labels.waitFor();
    await expectAccessible(page, "labels picker");
    await labels.fill("vip");
    await labels.press("Enter");
    await until(read, (c) => JSON.stringify(c.labels) === '["vip"]');
    await labels.fill("refund");
    await labels.press("Enter");
    await until(read, (c) => JSON.stringify(c.labels) === '["vip","refund"]');
    await page.keyboard.press("Escape");
    await head.locator(".head-labels").getByText("refund").waitFor();

    // priority: `p` opens the menu
    await shortcut("p");
    await page.getByRole("menuitem", { name: "High" }).click();
    await until(read, (c) => c.priority === "high");

    // status: pending, then snoozed until tomorrow at 9:00 (Paris), then a custom time
    await head.getByRole("button", { name: "Status" }).click();
    await page.getByRole("menuitem", { name: "Mark as pending" }).click();
    await until(read, (c) => c.status === "pending");
    await shortcut("s");
    await page.getByRole("menuitem", { name: "Tomorrow at 9:00" }).click();
    const snoozed = await until(read, (c) => c.status === "snoozed");
    const until9 = new Date(String(snoozed.snoozedUntil));
    const paris = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      hour: "2-digit",
      minute: "2-digit",
    }).format(until9);
    expect(paris).toBe("09:00");
    expect(until9.getTime()).toBeGreaterThan(Date.now());
    expect(until9.getTime() - Date.now()).toBeLessThan(2 * 86_400_000);

    await head.getByRole("button", { name: "Snooze" }).click();
    await page.getByRole("menuitem", { name: "Pick a date and time…" }).click();
    const when = page.getByLabel("Date and time");
    await when.fill("2020-01-15T10:30");
    await page.getByRole("dialog").getByRole("button", { name: "Snooze" }).click();
    await page.getByText("Pick a time in the future.").waitFor();
    await expectAccessible(page, "snooze dialog");
    await when.fill("2031-01-15T10:30");
    await page.getByRole("dialog").getByRole("button", { name: "Snooze" }).click();
    await until(
      read,
      (c) =>
        c.snoozedUntil === "2031-01-15T09:30:00.000Z" ||
        c.snoozedUntil === "2031-01-15T09:30:00+00:00" ||
        String(c.snoozedUntil).startsWith("2031-01-15T09:30"),
    );

    // resolve with `e`, then reopen
    await shortcut("e");
    await page.getByRole("status").filter({ hasText: "Resolved" }).waitFor();
    await until(read, (c) => c.status === "resolved");
    await head.getByRole("button", { name: "Reopen" }).click();
    await until(read, (c) => c.status === "open");

    // typing a shortcut's letter in the reply box types it
    await page.getByLabel("Your reply").fill("");
    await page.getByLabel("Your reply").press("e");
    expect(await page.getByLabel("Your reply").inputValue()).toBe("e");
    expect((await read()).status).toBe("open");
    await page.getByLabel("Your reply").fill("");

    // a refused change is rolled back and says why, in the server's words
    await head.getByRole("button", { name: "Assigned to Alex Agent" }).click();
    await rows(s.db, sql`UPDATE users SET status = 'disabled' WHERE id = ${s.bea.id}`);
    await page.getByRole("menuitem", { name: "Bea Second" }).click();
    await page.getByRole("alert").filter({ hasText: "No active user with that id" }).waitFor();
    await head.getByRole("button", { name: "Assigned to Alex Agent" }).waitFor();
    expect((await read()).assigneeId).toBe(s.user.id);

    // the shortcuts, listed on `?`
    await shortcut("Shift+?");
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dialog.waitFor();
    for (const name of [
      "Assign to me",
      "Send and resolve",
      "Next conversation",
      "Canned responses (at the start)",
    ]) {
      await dialog.getByRole("cell", { name }).waitFor();
    }
    await expectAccessible(page, "shortcuts dialog");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    // merge with `m`: the customer's other conversation, after confirming
    await shortcut("m");
    const merge = page.getByRole("dialog", { name: "Merge into another conversation" });
    await merge.getByRole("radio").first().waitFor();
    expect(await merge.getByRole("radio").count()).toBe(1);
    await expectAccessible(page, "merge dialog");
    await merge.getByRole("radio").first().check();
    await merge.getByRole("button", { name: /^Merge #\d+ into #\d+$/ }).click();
    await page.waitForURL((u) => u.pathname === `/inbox/c/${s.second}`);
    const merged = await until(read, (c) => c.mergedIntoId === s.second);
    expect(merged.status).toBe("resolved");
    await page.locator(".message-inbound").filter({ hasText: "My parcel is late." }).waitFor();

    // Escape on the page goes back to the list
    await page.locator(".conversation-head").getByRole("heading").focus();
    await page.keyboard.press("Escape");
    await page.waitForURL((u) => u.pathname === "/inbox/");
    expect(s.errors).toEqual([]);
  });

  it("phone (390×844): the header's actions fit, the customer opens on demand, axe with a menu and a dialog open", {
    timeout: 90_000,
  }, async () => {
    const s = await setup({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page } = s;
    await page.goto(`${base}/inbox/c/${s.first}`);
    const head = page.locator(".conversation-head");
    await head.getByRole("heading", { name: s.phone }).waitFor();
    expect(await page.getByRole("button", { name: "Back to the list" }).isVisible()).toBe(true);
    await expectAccessible(page, "phone conversation");
    await page.getByRole("button", { name: "Customer", exact: true }).click();
    await expect.poll(() => page.locator(".customer-pane").getAttribute("data-open")).toBe("true");
    // over the whole screen, the customer is closed by the panel's own way back
    await page.reload();
    await head.getByRole("heading", { name: s.phone }).waitFor();

    await head.getByRole("button", { name: "Snooze" }).click();
    await page.getByRole("menuitem", { name: "For 1 hour" }).waitFor();
    await expectAccessible(page, "phone snooze menu");
    await page.getByRole("menuitem", { name: "For 1 hour" }).click();
    const snoozed = await until(
      () => s.read(s.first),
      (c) => c.status === "snoozed",
    );
    const ahead = Date.parse(String(snoozed.snoozedUntil)) - Date.now();
    expect(ahead).toBeGreaterThan(55 * 60_000);
    expect(ahead).toBeLessThan(61 * 60_000);

    await head.getByRole("button", { name: "Keyboard shortcuts" }).click();
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    await expectAccessible(page, "phone shortcuts dialog");
    await page.keyboard.press("Escape");
    await head.getByRole("button", { name: "Merge" }).click();
    await page
      .getByRole("dialog", { name: "Merge into another conversation" })
      .getByRole("radio")
      .first()
      .waitFor();
    await expectAccessible(page, "phone merge dialog");
    expect(s.errors).toEqual([]);
  });

  it("a long conversation opens at its newest message; earlier ones come on demand", {
    timeout: 90_000,
  }, async () => {
    const s = await setup({ viewport: { width: 1280, height: 800 } });
    const { page } = s;
    // 250 messages in all: the first, then 249 more a minute apart
    await rows(
      s.db,
      sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind, text, created_at)
        SELECT ${s.ws}, gen_random_uuid(), ${s.first}, ${s.inbox.id}, 'inbound', 'message', 'Update number ' || g || '.',
          now() + g * interval '1 minute'
        FROM generate_series(2, 250) AS g`,
    );
    await page.goto(`${base}/inbox/c/${s.first}`);
    const list = page.locator(".message-list > *");
    await page.locator(".message-inbound").filter({ hasText: "Update number 250." }).waitFor();
    // the newest page only, scrolled to its end
    expect(await list.count()).toBe(100);
    await expect
      .poll(() => page.locator(".message-inbound").filter({ hasText: "Update number 250." }).isVisible())
      .toBe(true);
    expect(await page.getByText("My parcel is late.").count()).toBe(0);
    await expectAccessible(page, "long conversation");
    await page.getByRole("button", { name: "Show earlier messages" }).click();
    await expect.poll(() => list.count()).toBe(200);
    await page.getByRole("button", { name: "Show earlier messages" }).click();
    await page.getByText("My parcel is late.").waitFor();
    expect(await list.count()).toBe(250);
    // the start is reached: no more to show
    expect(await page.getByRole("button", { name: "Show earlier messages" }).count()).toBe(0);
    // a new message still arrives live below the earlier pages, and none is shown twice
    await receiveInbound(
      s.db,
      s.ws,
      {
        inboxId: s.inbox.id,
        from: [{ kind: "phone", value: s.phone }],
        contactAddress: s.phone,
        text: "Any news?",
      },
      { defaultCountry: "US" },
    );
    await page.locator(".message-inbound").filter({ hasText: "Any news?" }).waitFor();
    await expect.poll(() => list.count()).toBe(251);
    expect(await page.getByText("My parcel is late.").count()).toBe(1);
    expect(s.errors).toEqual([]);
  });
});
