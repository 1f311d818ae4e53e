import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listMessages } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import type { App } from "../src/http/app.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { expectAccessible } from "./support/axe.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeTwilio, startFakeTwilio, twilioError } from "./support/fake-twilio.ts";
import { waitFor } from "./support/job-helpers.ts";
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

async function session(email: string, password: string): Promise<string> {
  const login = await app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password } });
  const cookie = login.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${login.body}`);
  return cookie;
}

/**
 * A workspace with two agents, a canned response, and conversations on SMS (the customer is
 * Dana), X (a public post) and Messenger (a comment); the first agent's browser is signed in.
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
  const auth = { authorization: `Bearer ${s.secretKey}` };
  const canned = await app.inject({
    method: "POST",
    url: "/api/v1/canned-responses",
    headers: auth,
    payload: {
      shortcut: "shipping",
      title: "Order shipped",
      body: "Hi {{ customer.first_name }}, your order is on its way.",
    },
  });
  expect(canned.statusCode, canned.body).toBe(201);
  const phone = "+14155550161";
  const sms = await receiveInbound(
    s.db,
    s.ws,
    {
      inboxId: s.inbox.id,
      from: [{ kind: "phone", value: phone }],
      contactAddress: phone,
      traits: { first_name: "Dana" },
      text: "Has my order shipped?",
    },
    { defaultCountry: "US" },
  );
  const xInbox = await createInbox(s.db, s.ws, {
    kind: "x",
    name: "Brand on X",
    address: "brand",
    config: {
      consumerSecret: "x-secret",
      userId: "999",
      accessToken: "x-token",
      apiBaseUrl: "http://127.0.0.1:9",
    },
  });
  const x = await receiveInbound(
    s.db,
    s.ws,
    {
      inboxId: xInbox.id,
      from: [{ kind: "x_id", value: "4242" }],
      contactAddress: "4242",
      text: "@brand my order never came",
      threadKey: "post-1",
      metadata: { replyTo: { kind: "post", id: "1850000000000000001" } },
    },
    { defaultCountry: "US" },
  );
  const metaInbox = await createInbox(s.db, s.ws, {
    kind: "messenger",
    name: "Facebook page",
    address: "109876543210987",
    config: { appSecret: "s", verifyToken: "v", pageAccessToken: "t", graphBaseUrl: "http://127.0.0.1:9" },
  });
  const meta = await receiveInbound(
    s.db,
    s.ws,
    {
      inboxId: metaInbox.id,
      from: [{ kind: "messenger_psid", value: "6543210987654321" }],
      contactAddress: "6543210987654321",
      text: "Is this still in stock?",
      threadKey: "comment-1",
      metadata: { replyTo: { kind: "comment", id: "122134567890123456_1098765432109876" } },
    },
    { defaultCountry: "US" },
  );
  const context = await browser.newContext(options);
  await context.addCookies([
    { name: "rapport_session", value: await session(s.email, s.password), url: base },
  ]);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const texts = async (conversationId: string, text: string) =>
    (await listMessages(s.db, s.ws, conversationId, { limit: 200 })).data.filter((m) => m.text === text);
  return {
    ...s,
    bea,
    auth,
    phone,
    sms: sms.conversationId,
    x: x.conversationId,
    meta: meta.conversationId,
    context,
    page,
    errors,
    texts,
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Runs the reply's delivery (the test app has no worker) and answers its state. */
async function deliver(s: Setup, conversationId: string, text: string) {
  const id = await waitFor(
    "the reply's delivery",
    async () => (await s.texts(conversationId, text))[0]?.deliveryId ?? undefined,
  );
  return runDelivery(s.db, s.ws, id);
}

async function open(page: Page, id: string) {
  await page.goto(`${base}/inbox/c/${id}`);
  await page.locator(".conversation-head h2").waitFor();
}

describe.skipIf(!haveBrowser)("the reply box, in a browser", () => {
  it("desktop: canned, SMS counts, notes with mentions, send and resolve, drafts, lost session, offline, provider refusal", {
    timeout: 240_000,
  }, async () => {
    const s = await setup({ viewport: { width: 1280, height: 800 } });
    const { page, context } = s;
    const box = page.getByLabel("Your reply");
    const at = { step: "start" };
    try {
      at.step = "canned with /";
      await open(page, s.sms);
      await box.fill("/ship");
      const list = page.getByRole("listbox", { name: "Canned responses" });
      await list.getByRole("option", { name: /\/shipping/ }).waitFor();
      await expectAccessible(page, "canned suggestions");
      await box.press("Enter");
      const personal = "Hi Dana, your order is on its way.";
      await expect.poll(() => box.inputValue()).toBe(personal);
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator(".message-outbound").filter({ hasText: personal }).waitFor();
      expect(await deliver(s, s.sms, personal)).toBe("sent");
      expect(fake.messages.filter((m) => m.form.Body === personal).map((m) => m.form.To)).toEqual([s.phone]);
      expect(await box.inputValue()).toBe("");

      at.step = "canned from the button, emoji";
      await page.getByRole("button", { name: "Canned responses" }).click();
      await page.getByLabel("Search canned responses").fill("shipped");
      await expectAccessible(page, "canned picker");
      await page.getByRole("button", { name: /\/shipping/ }).click();
      await expect.poll(() => box.inputValue()).toBe(personal);
      await page.getByRole("button", { name: "Insert an emoji" }).click();
      await page.getByRole("button", { name: "thumbs up" }).waitFor();
      await expectAccessible(page, "emoji picker");
      await page.getByRole("button", { name: "thumbs up" }).click();
      await expect.poll(() => box.inputValue()).toBe(`${personal}👍`);

      at.step = "SMS counter";
      const count = page.locator(".sms-count");
      await box.fill("a".repeat(160));
      await expect.poll(() => count.textContent()).toBe("160 characters · 1 segment (GSM-7)");
      await box.fill("a".repeat(161));
      await expect.poll(() => count.textContent()).toBe("161 characters · 2 segments (GSM-7)");
      await box.fill(`${"a".repeat(69)}✓`);
      await expect.poll(() => count.textContent()).toBe("70 characters · 1 segment (UCS-2)");
      await box.fill(`${"a".repeat(70)}✓`);
      await expect.poll(() => count.textContent()).toBe("71 characters · 2 segments (UCS-2)");

      at.step = "a note with a mention";
      await box.fill("");
      await page.getByText("Private note", { exact: true }).click();
      const noteBox = page.getByLabel("Your private note");
      await noteBox.fill("Can you check this, @Be");
      await page
        .getByRole("listbox", { name: "Mention an agent" })
        .getByRole("option", { name: /Bea Second/ })
        .waitFor();
      await expectAccessible(page, "mention suggestions");
      await noteBox.press("Enter");
      const note = `Can you check this, @[Bea Second](user:${s.bea.id}) `;
      await expect.poll(() => noteBox.inputValue()).toBe(note);
      await noteBox.press("Control+Enter");
      const stored = await waitFor("the note", async () => (await s.texts(s.sms, note.trim()))[0]);
      expect(stored.kind).toBe("note");
      const mentions = await app.inject({
        method: "GET",
        url: "/api/v1/mentions",
        cookies: { rapport_session: await session(s.bea.email, s.password) },
      });
      expect(mentions.statusCode, mentions.body).toBe(200);
      expect(mentions.json().data).toEqual([
        expect.objectContaining({ messageId: stored.id, conversationId: s.sms }),
      ]);

      at.step = "drafts survive a reload";
      await noteBox.fill("A note I have not finished");
      await page.reload();
      await expect
        .poll(() => page.getByLabel("Your private note").inputValue())
        .toBe("A note I have not finished");
      await page.getByText("Reply", { exact: true }).click();
      await box.fill("A reply I have not finished");
      await page.reload();
      await expect.poll(() => box.inputValue()).toBe("A reply I have not finished");

      at.step = "a lost session keeps the draft";
      const afterSignIn = "Sent after signing in again.";
      await box.fill(afterSignIn);
      await context.clearCookies();
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL((u) => u.pathname === "/login");
      expect(new URL(page.url()).searchParams.get("next")).toBe(`/inbox/c/${s.sms}`);
      await page.fill("#email", s.email);
      await page.fill("#password", s.password);
      await Promise.all([
        page.waitForURL((u) => u.pathname === `/inbox/c/${s.sms}`),
        page.click("form button[type=submit]"),
      ]);
      await expect.poll(() => box.inputValue()).toBe(afterSignIn);
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator(".message-outbound").filter({ hasText: afterSignIn }).waitFor();
      expect(await s.texts(s.sms, afterSignIn)).toHaveLength(1);

      at.step = "offline";
      const offline = "Sent once we are back online.";
      await box.fill(offline);
      await context.setOffline(true);
      await page.getByRole("button", { name: "Send" }).click();
      await page.getByRole("alert").filter({ hasText: "You are offline" }).waitFor();
      expect(await box.inputValue()).toBe(offline);
      await context.setOffline(false);
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator(".message-outbound").filter({ hasText: offline }).waitFor();
      expect(await s.texts(s.sms, offline)).toHaveLength(1);

      at.step = "an answer lost on the way back is not sent twice";
      const lost = "The answer to this one is lost.";
      await box.fill(lost);
      const path = `/api/v1/conversations/${s.sms}/messages`;
      await page.route(`**${path}`, async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        await route.fetch();
        await route.abort("connectionreset");
      });
      await page.getByRole("button", { name: "Send" }).click();
      await page.getByRole("alert").filter({ hasText: "The reply was not sent" }).waitFor();
      expect(await box.inputValue()).toBe(lost);
      await page.unroute(`**${path}`);
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => box.inputValue()).toBe("");
      expect(await s.texts(s.sms, lost)).toHaveLength(1);
      expect(await deliver(s, s.sms, lost)).toBe("sent");
      expect(fake.messages.filter((m) => m.form.Body === lost)).toHaveLength(1);

      at.step = "the provider refuses";
      const refused = "This one the carrier refuses.";
      await box.fill(refused);
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => box.inputValue()).toBe("");
      fake.answerNext(twilioError(400, 21211, "The 'To' number +14155550161 is not a valid phone number."));
      expect(await deliver(s, s.sms, refused)).toBe("failed");
      await page
        .locator(".message-outbound")
        .filter({ hasText: refused })
        .filter({ hasText: "is not a valid phone number" })
        .waitFor();

      at.step = "attachments";
      await box.fill("The invoice is attached.");
      await page.locator("form.composer input[type=file]").setInputFiles({
        name: "invoice.pdf",
        mimeType: "application/pdf",
        buffer: Buffer.from("%PDF-1.4\n% a small invoice\n"),
      });
      // a file dropped on the reply box (the test's tsconfig has no DOM: the script is a string)
      await page.evaluate(`(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["not this one"], "dropped.txt", { type: "text/plain" }));
        const form = document.querySelector("form.composer");
        form.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
        form.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      })()`);
      await page.getByRole("button", { name: "Remove dropped.txt" }).waitFor();
      await expect.poll(() => page.locator(".attachment-chip[data-state=done]").count()).toBe(2);
      await expectAccessible(page, "attachment chips");
      await page.getByRole("button", { name: "Remove dropped.txt" }).click();
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => box.inputValue()).toBe("");
      const [withFile] = await s.texts(s.sms, "The invoice is attached.");
      expect(withFile?.attachments.map((a) => a.name)).toEqual(["invoice.pdf"]);

      at.step = "send and resolve";
      const last = "All sorted, closing this.";
      await box.fill(last);
      await page.getByRole("button", { name: "Other ways to post this" }).click();
      await expectAccessible(page, "send menu");
      await page.getByRole("menuitem", { name: "Send and resolve" }).click();
      await page.getByRole("status").filter({ hasText: "Resolved" }).waitFor();
      expect(await s.texts(s.sms, last)).toHaveLength(1);
      const read = await app.inject({
        method: "GET",
        url: `/api/v1/conversations/${s.sms}`,
        headers: s.auth,
      });
      expect(read.json().status).toBe("resolved");

      at.step = "X: 280 characters for a public reply";
      await open(page, s.x);
      const counter = page.locator(".x-count");
      await box.fill("a".repeat(280));
      await expect.poll(() => counter.textContent()).toBe("280/280");
      expect(await page.getByRole("button", { name: "Send" }).isEnabled()).toBe(true);
      await box.fill("a".repeat(281));
      await page.getByRole("alert").filter({ hasText: "1 characters over X's limit" }).waitFor();
      expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
      await box.press("Control+Enter");
      await expectAccessible(page, "X over the limit");
      // a private reply is a DM, with DM's room
      await page.getByText("Private reply", { exact: true }).click();
      await expect.poll(() => counter.textContent()).toBe("281/10000");
      expect(
        (await listMessages(s.db, s.ws, s.x, { limit: 50 })).data.filter((m) => m.direction === "outbound"),
      ).toEqual([]);

      at.step = "Messenger comment: public or private reply";
      await open(page, s.meta);
      const body = async (text: string) => {
        const request = page.waitForRequest(
          (r) => r.method() === "POST" && r.url().endsWith(`/api/v1/conversations/${s.meta}/messages`),
        );
        await box.fill(text);
        await page.getByRole("button", { name: "Send" }).click();
        await expect.poll(() => box.inputValue()).toBe("");
        return (await request).postDataJSON();
      };
      await page.getByRole("radio", { name: "Public reply" }).waitFor({ state: "attached" });
      expect(await body("Yes, in stock!")).toMatchObject({ text: "Yes, in stock!", visibility: "public" });
      await page.getByText("Private reply", { exact: true }).click();
      expect(await body("I sent you the details.")).toMatchObject({
        text: "I sent you the details.",
        visibility: "private",
      });
      expect(await s.texts(s.meta, "I sent you the details.")).toHaveLength(1);
      expect(s.errors).toEqual([]);
    } catch (err) {
      throw new Error(
        `the composer failed at "${at.step}": ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  });

  it("phone (390×844): the reply box with its lists open passes axe", { timeout: 90_000 }, async () => {
    const s = await setup({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page } = s;
    await open(page, s.sms);
    const box = page.getByLabel("Your reply");
    await box.fill("/");
    await page.getByRole("listbox", { name: "Canned responses" }).waitFor();
    await expectAccessible(page, "phone canned suggestions");
    await box.fill("");
    await page.getByRole("button", { name: "Insert an emoji" }).click();
    await page.getByRole("button", { name: "thumbs up" }).click();
    await expect.poll(() => box.inputValue()).toBe("👍");
    await page.getByRole("button", { name: "Other ways to post this" }).click();
    await page.getByRole("menuitem", { name: "Send and resolve" }).waitFor();
    await expectAccessible(page, "phone send menu");
    await page.keyboard.press("Escape");
    // Escape closes the menu and leaves the conversation open
    await page.getByRole("menuitem", { name: "Send and resolve" }).waitFor({ state: "hidden" });
    expect(new URL(page.url()).pathname).toBe(`/inbox/c/${s.sms}`);
    await page.getByText("Private note", { exact: true }).click();
    await page.getByLabel("Your private note").fill("@");
    await page.getByRole("listbox", { name: "Mention an agent" }).waitFor();
    await expectAccessible(page, "phone mention suggestions");
    expect(s.errors).toEqual([]);
  });
});
