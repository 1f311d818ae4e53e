import { sql } from "drizzle-orm";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox, listInboxes } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createApiKey } from "../src/platform/api-keys.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import type { Role } from "../src/platform/roles.ts";
import { createUser } from "../src/platform/users.ts";
import { identify } from "../src/profiles/identify.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { PASSWORD } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";

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

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
};
const SECTIONS = [
  ["inboxes", "Inboxes & channels"],
  ["topics", "Topics"],
  ["teams", "Teams"],
  ["agents", "Agents & roles"],
  ["canned", "Canned responses"],
  ["api-keys", "API keys"],
  ["webhooks", "Outbound webhooks"],
  ["outbox", "Sandbox outbox"],
] as const;

/** A workspace with a member of `role` signed in by password, and the session cookie. */
async function member(role: Role, ws?: string) {
  const workspaceId = ws ?? (await createTestWorkspace(app.ctx.database)).workspace.id;
  const email = `${role}-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(app.ctx.database.db, {
    workspaceId,
    email,
    name: role === "agent" ? "Alex Agent" : "Olivia Owner",
    role,
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
  });
  const cookie = res.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${res.body}`);
  return { ws: workspaceId, user, cookie };
}

/**
 * A signed-in page that records console errors and failed loads; `expected` lists the
 * refusals a test provokes on purpose (method and path), which are not errors.
 */
async function openPage(cookie: string, options: BrowserContextOptions) {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: "rapport_session", value: cookie, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  const expected = new Set<string>();
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && path !== "/favicon.ico" && !expected.has(`${r.request().method()} ${path}`)) {
      errors.push(`${r.status()} ${r.url()}`);
    }
  });
  page.on("pageerror", (e) => errors.push(e.message));
  const at = { step: "start" };
  flows.set(page, { at, errors });
  return { page, errors, expected, at, close: () => context.close() };
}

// what each open page was doing, so a failure names its step and the page's errors
const flows = new Map<Page, { at: { step: string }; errors: string[] }>();

/** Runs a test's steps; a failure says which step it was and what the page complained of. */
async function steps(page: Page, body: (at: { step: string }) => Promise<void>): Promise<void> {
  const flow = flows.get(page) ?? { at: { step: "start" }, errors: [] };
  try {
    await body(flow.at);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `failed at "${flow.at.step}" (page errors: ${flow.errors.join("; ") || "none"}): ${why}`,
      {
        cause: err,
      },
    );
  }
}

/** A field's label exactly, whether or not it carries the required mark. */
function exact(label: string): RegExp {
  return new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( \\*)?$`);
}

async function count(table: string, ws: string): Promise<number> {
  const [row] = await rows<{ n: number }>(
    app.ctx.database.db,
    sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE workspace_id = ${ws}`,
  );
  return row?.n ?? -1;
}

/** The server's public address, which providers sign their calls with: every webhook URL starts with it. */
const publicUrl = () => app.ctx.config.publicUrl.replace(/\/+$/, "");

describe.skipIf(!haveBrowser)("the settings in a browser", () => {
  it("each section loads and is accessible on a desktop and a phone", { timeout: 300_000 }, async () => {
    const owner = await member("owner");
    for (const options of [DESKTOP, PHONE]) {
      const { page, errors, close, at } = await openPage(owner.cookie, options);
      await steps(page, async () => {
        await page.goto(`${base}/inbox/admin`);
        await page.getByRole("heading", { name: "Inboxes & channels", level: 2 }).waitFor();
        for (const [id, title] of SECTIONS) {
          at.step = `${options === PHONE ? "phone" : "desktop"}: ${id}`;
          // the side navigation moves between sections without reloading
          await page
            .getByRole("navigation", { name: "Settings sections" })
            .getByRole("link", { name: title })
            .click();
          await page.getByRole("heading", { name: title, level: 2 }).waitFor();
          expect(new URL(page.url()).pathname).toBe(`/inbox/admin/${id}`);
          await page.waitForLoadState("networkidle");
          await expectAccessible(page);
        }
      });
      expect(errors).toEqual([]);
      await close();
    }
  });

  it("inboxes: an SMS inbox shows its webhook URLs; bad numbers and URLs are refused with the server's words", {
    timeout: 150_000,
  }, async () => {
    const owner = await member("owner");
    const { page, errors, expected, close } = await openPage(owner.cookie, DESKTOP);
    await steps(page, async (at) => {
      at.step = "open inboxes";
      await page.goto(`${base}/inbox/admin/inboxes`);
      const form = page.locator("form", { has: page.getByRole("heading", { name: "New inbox" }) });

      // the form catches a number without + itself, before any request
      await form.getByLabel("Kind").selectOption("sms");
      await form.getByLabel(exact("Name")).fill("Support SMS");
      await form.getByLabel("Phone number").fill("4155550142");
      await form.getByLabel("Twilio Account SID").fill(`AC${"ab12".repeat(8)}`);
      await form.getByLabel("Twilio auth token").fill("token-1");
      await form.getByRole("button", { name: "Create inbox" }).click();
      await form.getByText("Use the international format with +").waitFor();
      expect(await listInboxes(app.ctx.database.db, owner.ws)).toHaveLength(0);

      await form.getByLabel("Phone number").fill("+14155550142");
      await form.getByRole("button", { name: "Create inbox" }).click();
      const setup = page.locator("[data-inbox-setup]");
      await setup.getByRole("heading", { name: "Connect Support SMS" }).waitFor();
      const [inbox] = await listInboxes(app.ctx.database.db, owner.ws);
      expect(inbox).toMatchObject({ kind: "sms", name: "Support SMS", address: "+14155550142" });
      expect(await setup.getByRole("textbox", { name: "Messaging webhook URL" }).inputValue()).toBe(
        `${publicUrl()}/webhooks/twilio/${owner.ws}/inbox/${inbox?.id}`,
      );
      expect(await setup.getByRole("textbox", { name: "Status callback URL" }).inputValue()).toBe(
        `${publicUrl()}/webhooks/twilio/status/${owner.ws}`,
      );
      await page.locator(`[data-inbox-id="${inbox?.id}"]`).waitFor();
      await expectAccessible(page);

      at.step = "bad voice number";
      // a voice inbox whose agent number is not E.164: the server's message, and no inbox
      expected.add("POST /api/v1/inboxes");
      await form.getByLabel("Kind").selectOption("voice");
      await form.getByLabel(exact("Name")).fill("Support line");
      await form.getByLabel("Phone number").fill("+14155550143");
      await form.getByLabel("Twilio Account SID").fill(`AC${"cd34".repeat(8)}`);
      await form.getByLabel("Twilio auth token").fill("token-2");
      await form.getByLabel("Number that rings the team").fill("555-0100");
      await form.getByRole("button", { name: "Create inbox" }).click();
      const refusal = form.getByRole("alert");
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain("config.agentNumber: must be an E.164 number");
      expect(await refusal.textContent()).toContain("(conversations.invalid_inbox)");
      expect(await listInboxes(app.ctx.database.db, owner.ws)).toHaveLength(1);

      at.step = "bad API URL";
      // an API inbox whose reply URL is not http(s)
      await form.getByLabel("Kind").selectOption("api");
      await form.getByLabel(exact("Name")).fill("App messages");
      await form.getByLabel("URL replies are posted to").fill("ftp://example.com/replies");
      await form.getByRole("button", { name: "Create inbox" }).click();
      await form.getByRole("alert").filter({ hasText: "webhooks.invalid_url" }).waitFor();
      expect(await form.getByRole("alert").textContent()).toContain("must use https: (or http:)");
      expect(await listInboxes(app.ctx.database.db, owner.ws)).toHaveLength(1);
      await expectAccessible(page);

      // fixed, it is created, and its signing secret is shown this once
      await form.getByLabel("URL replies are posted to").fill("");
      await form.getByRole("button", { name: "Create inbox" }).click();
      await setup.getByRole("heading", { name: "Connect App messages" }).waitFor();
      const apiInbox = (await listInboxes(app.ctx.database.db, owner.ws)).find((i) => i.kind === "api");
      expect(await setup.getByRole("textbox", { name: "Signing secret" }).inputValue()).toBe(
        apiInbox?.config.webhookSecret,
      );
      expect(await setup.getByRole("textbox", { name: "Messages URL" }).inputValue()).toBe(
        `${publicUrl()}/api/v1/inboxes/${apiInbox?.id}/messages`,
      );
      // opened again from the list, the secret is not shown
      await page.getByRole("button", { name: "Show setup of App messages" }).click();
      await setup.getByRole("heading", { name: "Connect App messages" }).waitFor();
      expect(await setup.getByRole("textbox", { name: "Signing secret" }).count()).toBe(0);

      at.step = "edit";
      // renamed and given a Messaging Service, its auth token kept without typing it again
      await page.getByRole("button", { name: "Edit Support SMS" }).click();
      const edit = page.locator("form", { has: page.getByRole("heading", { name: "Edit Support SMS" }) });
      expect(await edit.getByLabel("Kind").isDisabled()).toBe(true);
      expect(await edit.getByLabel("Phone number").inputValue()).toBe("+14155550142");
      expect(await edit.getByLabel("Twilio auth token").inputValue()).toBe("");
      await edit.getByText("Leave empty to keep the current value.").waitFor();
      await expectAccessible(page);
      await edit.getByLabel(exact("Name")).fill("Care SMS");
      await edit.getByLabel("Messaging Service SID").fill(`MG${"ef56".repeat(8)}`);
      await edit.getByRole("button", { name: "Save" }).click();
      await page.locator(`[data-inbox-id="${inbox?.id}"]`).getByText("Care SMS").waitFor();
      const [edited] = (await listInboxes(app.ctx.database.db, owner.ws)).filter((i) => i.id === inbox?.id);
      expect(edited).toMatchObject({
        name: "Care SMS",
        config: {
          accountSid: `AC${"ab12".repeat(8)}`,
          authToken: "token-1",
          messagingServiceSid: `MG${"ef56".repeat(8)}`,
        },
      });

      at.step = "delete";
      // an inbox without conversations goes, after a confirmation
      await page.locator(`[data-inbox-id="${apiInbox?.id}"]`).getByRole("button", { name: "Delete" }).click();
      await page.getByRole("button", { name: "Yes, delete" }).click();
      await page.locator(`[data-inbox-id="${apiInbox?.id}"]`).waitFor({ state: "detached" });
      expect((await listInboxes(app.ctx.database.db, owner.ws)).map((i) => i.name)).toEqual(["Care SMS"]);
      // one with a conversation stays, and the page says why in the server's words
      await receiveInbound(
        app.ctx.database.db,
        owner.ws,
        { inboxId: inbox?.id ?? "", from: [{ kind: "phone", value: "+14155550199" }], text: "Hello" },
        { defaultCountry: "US" },
      );
      expected.add(`DELETE /api/v1/inboxes/${inbox?.id}`);
      await page.locator(`[data-inbox-id="${inbox?.id}"]`).getByRole("button", { name: "Delete" }).click();
      await page.getByRole("button", { name: "Yes, delete" }).click();
      await page
        .getByRole("alert")
        .filter({ hasText: "an inbox with conversations cannot be deleted" })
        .waitFor();
      expect(await listInboxes(app.ctx.database.db, owner.ws)).toHaveLength(1);
      await expectAccessible(page);
    });
    expect(errors).toEqual([]);
    await close();
  });

  it("topics, teams and agents round-trip", { timeout: 150_000 }, async () => {
    const owner = await member("owner");
    const { page, errors, close } = await openPage(owner.cookie, DESKTOP);
    await steps(page, async (at) => {
      at.step = "topics";
      await page.goto(`${base}/inbox/admin/topics`);
      const topicForm = page.locator("form", { has: page.getByRole("heading", { name: "New topic" }) });
      await topicForm.getByLabel(exact("Key")).fill("Bad Key");
      await topicForm.getByLabel("Name (English)").fill("Promotions");
      await topicForm.getByRole("button", { name: "Create topic" }).click();
      await topicForm.getByText("Lower-case letters, digits and dashes").first().waitFor();
      await topicForm.getByLabel(exact("Key")).fill("product-news");
      await topicForm.getByRole("button", { name: "Create topic" }).click();
      const row = page.locator('[data-topic-key="product-news"]');
      await row.getByText("Shown to customers").waitFor();
      await row.getByRole("button", { name: "Archive" }).click();
      await row.getByRole("button", { name: "Yes, archive" }).click();
      await row.getByText("Archived").waitFor();
      const topic = await app.inject({
        method: "GET",
        url: "/api/v1/topics/product-news",
        cookies: { rapport_session: owner.cookie },
      });
      expect(topic.json()).toMatchObject({
        key: "product-news",
        names: { en: "Promotions" },
        kind: "marketing",
      });
      expect(topic.json().archivedAt).toEqual(expect.any(String));

      at.step = "teams";
      await page.getByRole("link", { name: "Teams" }).click();
      await page.getByLabel(exact("Name")).fill("Billing");
      await page.getByRole("button", { name: "Create team" }).click();
      const team = page.locator("[data-team-id]").filter({ hasText: "Billing" });
      await team.getByText("No members").waitFor();
      await team.getByRole("button", { name: "Members" }).click();
      await page.getByLabel("Olivia Owner").check();
      await page.getByRole("button", { name: "Save" }).click();
      await team.getByText("Olivia Owner").waitFor();
      const [saved] = await rows<{ n: number }>(
        app.ctx.database.db,
        sql`SELECT count(*)::int AS n FROM team_members WHERE workspace_id = ${owner.ws} AND user_id = ${owner.user.id}`,
      );
      expect(saved?.n).toBe(1);

      at.step = "agents";
      await page.getByRole("link", { name: "Agents & roles" }).click();
      await page.getByLabel(exact("Email")).fill("not-an-address");
      await page.getByRole("button", { name: "Send invitation" }).click();
      await page.getByText("Enter an email address").waitFor();
      await page.getByLabel(exact("Email")).fill("sam@example.com");
      await page.getByRole("button", { name: "Send invitation" }).click();
      const link = await page.getByRole("textbox", { name: "Invitation link" }).inputValue();
      expect(link).toMatch(/\/invite\?token=/);
      const invited = page.locator('[data-user-email="sam@example.com"]');
      await invited.getByText("Invited").waitFor();
      // promote, then disable (asked first)
      await invited.getByLabel("Role of sam@example.com").selectOption("admin");
      await expect
        .poll(async () => (await users(owner)).find((u) => u.email === "sam@example.com")?.role)
        .toBe("admin");
      await invited.getByRole("button", { name: "Disable" }).click();
      await invited.getByRole("button", { name: "Yes, disable" }).click();
      await invited.getByText("Disabled").waitFor();
      await expectAccessible(page);
    });
    expect(errors).toEqual([]);
    await close();
  });

  it("canned responses, API keys, webhooks and the sandbox outbox round-trip", {
    timeout: 150_000,
  }, async () => {
    const owner = await member("owner");
    const db = app.ctx.database.db;
    // a conversation to render the canned response for, through the API channel
    const apiInbox = await createInbox(db, owner.ws, { kind: "api", name: "App" });
    const key = await createApiKey(db, { workspaceId: owner.ws, kind: "secret" });
    const bearer = { authorization: `Bearer ${key.token}` };
    const posted = await app.inject({
      method: "POST",
      url: `/api/v1/inboxes/${apiInbox.id}/messages`,
      headers: bearer,
      payload: { from: { email: "ada@example.com" }, name: "Ada Lovelace", text: "Hello?" },
    });
    expect(posted.statusCode, posted.body).toBeLessThan(300);
    // a message sent through the sandbox provider
    await getMessagingSettings(db, owner.ws);
    await identify(db, owner.ws, {
      identifiers: [{ kind: "email", value: "grace@example.com" }],
      reason: "test",
      defaultCountry: "US",
    });
    const sent = await app.inject({
      method: "POST",
      url: "/api/v1/messages",
      headers: { ...bearer, "idempotency-key": uuidv7() },
      payload: {
        to: { email: "grace@example.com" },
        topic: "account",
        content: { subject: "Your receipt", text: "Thanks for your order!" },
      },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    await runDelivery(db, owner.ws, sent.json().deliveryId);

    const { page, errors, close } = await openPage(owner.cookie, DESKTOP);
    await steps(page, async (at) => {
      at.step = "canned";
      await page.goto(`${base}/inbox/admin/canned`);
      await page.getByLabel(exact("Shortcut")).fill("thanks");
      await page.getByLabel(exact("Title")).fill("Thank you");
      await page.getByLabel(exact("Text")).fill("Hi {{ customer.first_name }}, thanks for writing!");
      await page.getByRole("button", { name: "Create canned response" }).click();
      const canned = page.locator('[data-canned-shortcut="thanks"]');
      await canned.waitFor();
      await canned.getByRole("button", { name: "Preview" }).click();
      await page.getByRole("button", { name: "Render" }).click();
      await expect
        .poll(() => page.locator("[data-canned-preview]").textContent())
        .toBe("Hi Ada, thanks for writing!");
      await expectAccessible(page);
      await canned.getByRole("button", { name: "Delete" }).click();
      await canned.getByRole("button", { name: "Yes, delete" }).click();
      await canned.waitFor({ state: "detached" });
      expect(await count("canned_responses", owner.ws)).toBe(0);

      at.step = "api keys";
      await page.getByRole("link", { name: "API keys" }).click();
      await page.getByLabel(exact("Name")).fill("CI deploys");
      await page.getByRole("button", { name: "Create key" }).click();
      const token = await page.getByRole("textbox", { name: "Key CI deploys" }).inputValue();
      const works = await app.inject({
        method: "GET",
        url: "/api/v1/inboxes",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(works.statusCode).toBe(200);
      await expectAccessible(page);
      await page.getByRole("button", { name: "I have stored it" }).click();
      // shown once: gone from the page (once React has drawn the click), and the list shows only its hint
      await page.getByRole("textbox", { name: "Key CI deploys" }).waitFor({ state: "detached" });
      expect(await page.content()).not.toContain(token);
      const keyRow = page.locator('[data-key-name="CI deploys"]');
      await keyRow.getByRole("button", { name: "Revoke" }).click();
      await keyRow.getByRole("button", { name: "Yes, revoke" }).click();
      await keyRow.getByText(/^Revoked/).waitFor();
      const refused = await app.inject({
        method: "GET",
        url: "/api/v1/inboxes",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(refused.statusCode).toBe(401);

      at.step = "webhooks";
      await page.getByRole("link", { name: "Outbound webhooks" }).click();
      await page.getByLabel(exact("URL")).fill("http://127.0.0.1:9/rapport-hooks");
      await page.getByLabel("message.created").check();
      await page.getByLabel("The URL is on a private network").check();
      await page.getByRole("button", { name: "Create endpoint" }).click();
      const endpointSecret = await page.getByRole("textbox", { name: "Signing secret" }).inputValue();
      expect(endpointSecret).toMatch(/^whsec_/);
      const endpoint = page.locator('[data-endpoint-url="http://127.0.0.1:9/rapport-hooks"]');
      await endpoint.getByText("message.created").waitFor();
      const listed = await app.inject({ method: "GET", url: "/api/v1/webhooks/endpoints", headers: bearer });
      expect(listed.json().data).toMatchObject([
        { url: "http://127.0.0.1:9/rapport-hooks", eventTypes: ["message.created"], secret: endpointSecret },
      ]);
      await endpoint.getByRole("button", { name: "Disable" }).click();
      await endpoint.getByText("Disabled").waitFor();
      await expectAccessible(page);

      at.step = "outbox";
      await page.getByRole("link", { name: "Sandbox outbox" }).click();
      const out = page.locator(`[data-outbox-id="${sent.json().deliveryId}"]`);
      await out.getByText("grace@example.com").waitFor();
      expect(await out.textContent()).toContain("Your receipt");
      expect(await out.textContent()).toContain("Thanks for your order!");
    });
    expect(errors).toEqual([]);
    await close();
  });

  it("an agent sees no settings, and the settings' APIs refuse them", { timeout: 150_000 }, async () => {
    const owner = await member("owner");
    const agent = await member("agent", owner.ws);
    for (const options of [DESKTOP, PHONE]) {
      const { page, errors, expected, close } = await openPage(agent.cookie, options);
      await page.goto(`${base}/inbox/`);
      const nav = page.getByRole("navigation", { name: "Main" });
      await nav.getByRole("link", { name: "Inbox" }).waitFor();
      expect(await nav.getByRole("link", { name: "Settings" }).count()).toBe(0);
      await page.goto(`${base}/inbox/admin/api-keys`);
      await page
        .getByRole("alert")
        .filter({ hasText: "Only owners and admins can open the settings." })
        .waitFor();
      await expectAccessible(page);
      const calls: Array<[string, string, unknown]> = [
        ["POST", "/api/v1/inboxes", { kind: "sms", name: "Mine" }],
        ["POST", "/api/v1/topics", { key: "news", names: { en: "News" }, kind: "marketing" }],
        ["POST", "/api/v1/teams", { name: "Rebels" }],
        ["POST", "/api/v1/users", { email: "friend@example.com", role: "admin" }],
        ["POST", "/api/v1/canned-responses", { shortcut: "hi", title: "Hi", body: "Hi" }],
        ["GET", "/api/v1/api-keys", undefined],
        ["POST", "/api/v1/api-keys", { kind: "secret", name: "mine" }],
        ["POST", "/api/v1/webhooks/endpoints", { url: "https://example.com/hook" }],
      ];
      for (const [method, path] of calls) expected.add(`${method} ${path}`);
      const answers = await page.evaluate(async (list) => {
        const out: Array<{ status: number; code: string }> = [];
        for (const [method, path, body] of list) {
          const res = await fetch(path, {
            method,
            headers: body === undefined ? {} : { "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const json = (await res.json()) as { error?: { code?: string } };
          out.push({ status: res.status, code: json.error?.code ?? "" });
        }
        return out;
      }, calls);
      expect(answers.map((x) => x.status)).toEqual(calls.map(() => 403));
      expect(answers.every((x) => x.code.endsWith("forbidden"))).toBe(true);
      expect(errors).toEqual([]);
      await close();
    }
    expect(await count("inboxes", owner.ws)).toBe(0);
    expect(await count("teams", owner.ws)).toBe(0);
    expect(await count("canned_responses", owner.ws)).toBe(0);
  });
});

async function users(who: { cookie: string }): Promise<Array<{ email: string; role: string }>> {
  const res = await app.inject({
    method: "GET",
    url: "/api/v1/users",
    cookies: { rapport_session: who.cookie },
  });
  return res.json().users;
}
