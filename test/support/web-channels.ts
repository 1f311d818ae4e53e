import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { expect } from "vitest";
import type { App } from "../../src/http/app.ts";
import { uuidv7 } from "../../src/ids.ts";
import { hashPassword } from "../../src/platform/passwords.ts";
import { createUser } from "../../src/platform/users.ts";
import { createTestWorkspace } from "./factories.ts";
import { PASSWORD } from "./sign-in.ts";

export { expectAccessible } from "./axe.ts";

/** A page that records every console error (a CSP refusal shows up there) and failed load. */
export async function recordingPage(
  browser: Browser,
  options: BrowserContextOptions,
): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext(options)).newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico")
      errors.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}

/** A workspace with an agent who signs in by password, and a canned response personalised by Liquid. */
export async function agentWorkspace(app: App) {
  const t = await createTestWorkspace(app.ctx.database);
  const db = app.ctx.database.db;
  const email = `agent-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(db, {
    workspaceId: t.workspace.id,
    email,
    name: "Alex Agent",
    role: "agent",
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const canned = await app.inject({
    method: "POST",
    url: "/api/v1/canned-responses",
    headers: { authorization: `Bearer ${t.secretKey}` },
    payload: {
      shortcut: "fixed",
      title: "Fixed for you",
      body: "Hi {{ customer.first_name | default: 'there' }}, it is fixed now. {{ agent.first_name }} from Melodia",
    },
  });
  if (canned.statusCode !== 201) throw new Error(`the canned response was refused: ${canned.body}`);
  return { ...t, db, ws: t.workspace.id, user, email, password: PASSWORD };
}

/** Signs in through the sign-in page and lands on the inbox. */
export async function signIn(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/inbox/`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== "/login"),
    page.click("form button[type=submit]"),
  ]);
  expect(new URL(page.url()).pathname).toBe("/inbox/");
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
}

/**
 * Picks a canned response in the composer the way an agent does: `/` and the shortcut's
 * beginning, then Enter; answers the reply box's text once the personalised body is in.
 */
export async function insertCanned(page: Page, shortcut: string, expected: string): Promise<void> {
  const box = page.getByLabel("Your reply");
  await box.click();
  await box.pressSequentially(`/${shortcut}`);
  await page.getByRole("option", { name: /Fixed for you/ }).waitFor();
  await box.press("Enter");
  await expect.poll(() => box.inputValue()).toBe(expected);
}
