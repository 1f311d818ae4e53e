import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Browser, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchMetaPost, PostJob } from "../src/channels/meta/posts.ts";
import { attachmentStoreFor } from "../src/conversations/attachments.ts";
import type { Inbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { PermanentJobError } from "../src/jobs/index.ts";
import { haveBrowser, launchBrowser } from "./support/browser.ts";
import { testApp } from "./support/factories.ts";
import { type FakeGraph, graphError, metaFixture, startFakeGraph } from "./support/fake-graph.ts";
import { metaTestInbox, PAGE, postMetaWebhook, TOKEN } from "./support/meta-webhook.ts";
import { signedIn } from "./support/sign-in.ts";
import { ensureWebBuild } from "./support/web-build.ts";
import { expectAccessible } from "./support/web-channels.ts";

// A comment conversation shows the post it belongs to at its top: loading while the post is
// read from the Graph API (the fake here), then its text (a few lines, Show more), picture,
// time and link, live; or that it could not be loaded, with its link still there.

const FB_POST = "109876543210987_122134567890123456";
const IG_MEDIA = "18012345678901234";
const WEBHOOK_PERMALINK =
  "https://www.facebook.com/permalink.php?story_fbid=pfbid02xRc7bPv2mQwq6n1Jh8&id=109876543210987";
const LONG_TEXT = [
  "Offline mode is here for everyone on Premium ✈️",
  "Download any playlist and listen anywhere: on the plane, on the train, in the tunnel.",
  "Open a playlist, tap the arrow, and it is yours without a network.",
  "Family plans get it too, on every member's phone.",
  "Tell us in the comments what you will download first!",
].join("\n");
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

let app: App;
let base: string;
let browser: Browser;
let graph: FakeGraph;

beforeAll(async () => {
  if (!haveBrowser) return;
  await ensureWebBuild();
  app = await testApp({
    RAPPORT_DEFAULT_COUNTRY: "US",
    RAPPORT_DATA_DIR: mkdtempSync(join(tmpdir(), "rapport-web-posts-")),
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  graph = await startFakeGraph(TOKEN);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await graph?.close();
});

type Agent = Awaited<ReturnType<typeof signedIn>>;

function metaInbox(agent: Agent, kind: "messenger" | "instagram") {
  return metaTestInbox(app.ctx.database.db, agent.workspace.id, kind, graph.graphBaseUrl);
}

/** A comment through the signed webhook; answers the conversation it opened. */
async function comment(agent: Agent, inbox: Inbox, body: string): Promise<string> {
  await postMetaWebhook(app, agent.workspace.id, inbox.id, body);
  const [row] = await rows<{ id: string }>(
    app.ctx.database.db,
    sql`SELECT id::text AS id FROM conversations WHERE workspace_id = ${agent.workspace.id} AND inbox_id = ${inbox.id}
        ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  if (!row) throw new Error("no conversation");
  return row.id;
}

/** Runs the post's queued job here (taken off the table, so no other worker runs it). */
async function readPost(agent: Agent, inbox: Inbox, post: string) {
  const [job] = await rows<{ payload: unknown }>(
    app.ctx.database.db,
    sql`DELETE FROM jobs WHERE dedupe_key = ${`meta.fetch_post:${agent.workspace.id}:${inbox.id}:${post}`}
        RETURNING payload`,
  );
  if (!job) throw new Error(`no job for ${post}`);
  return fetchMetaPost(app.ctx.database.db, PostJob.parse(job.payload)).catch((err: unknown) => {
    if (err instanceof PermanentJobError) return "unavailable";
    throw err;
  });
}

async function openAs(agent: Agent, options: BrowserContextOptions, expectedMissing: string[]) {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: "rapport_session", value: agent.cookies.rapport_session, url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && path !== "/favicon.ico" && !expectedMissing.includes(path))
      errors.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}

describe.skipIf(!haveBrowser)("the post of a comment conversation (needs Debian's chromium)", () => {
  for (const phone of [false, true]) {
    it(`shows the post's text, picture, time and link, live once read, and what could not be read, on a ${phone ? "phone" : "desk"}`, async () => {
      const agent = await signedIn(app, "agent");
      const ws = agent.workspace.id;
      const picture = await attachmentStoreFor(app.ctx.config.dataDir).put(ws, {
        name: "offline.png",
        contentType: "image/png",
        data: PNG,
      });
      const gonePicture = "/api/v1/attachments/expired-picture.jpg";
      graph.setPost(FB_POST, {
        message: LONG_TEXT,
        permalink_url: "https://www.facebook.com/melodia/posts/122134567890123456",
        // a picture the browser may load (this origin, as the policy lets Meta's CDNs)
        full_picture: `${base}/api/v1/attachments/${picture.key}`,
        created_time: "2024-11-24T09:28:20+0000",
      });
      graph.setPost(IG_MEDIA, {
        caption: "Your year in music is ready 🎧",
        permalink: "https://www.instagram.com/p/C8xYz12AbCd/",
        media_type: "IMAGE",
        // Meta's picture URLs expire: this one is gone
        media_url: `${base}${gonePicture}`,
        timestamp: "2024-11-23T18:00:00+0000",
      });
      const messenger = await metaInbox(agent, "messenger");
      const instagram = await metaInbox(agent, "instagram");
      const fb = await comment(agent, messenger, metaFixture("feed-comment"));
      const { page, errors } = await openAs(
        agent,
        phone
          ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
          : { viewport: { width: 1280, height: 900 } },
        [gonePicture],
      );

      // while the post is read: said so, with the link the comment brought
      await page.goto(`${base}/inbox/c/${fb}`);
      const card = page.locator(".post-card");
      await card.getByText("Loading the post…").waitFor();
      // the card is a region named by its own title
      const labelledBy = await card.getAttribute("aria-labelledby");
      expect(labelledBy).toMatch(/\S/);
      expect(await page.locator(`[id="${labelledBy}"]`).textContent()).toBe("Your post on Facebook");
      expect(await card.getByText("Your post on Facebook").count()).toBe(1);
      expect(await card.getByRole("link", { name: "View on Facebook" }).getAttribute("href")).toBe(
        WEBHOOK_PERMALINK,
      );
      await expectAccessible(page);

      // read: the open conversation shows it without a reload
      expect(await readPost(agent, messenger, FB_POST)).toBe("stored");
      await page.locator(".post-card[data-post-status=ready]").waitFor();
      const text = card.locator(".post-card-text");
      await text.waitFor();
      expect(await text.textContent()).toBe(LONG_TEXT);
      // a few lines, and the rest on demand
      const more = card.getByRole("button", { name: "Show more" });
      expect(await more.getAttribute("aria-expanded")).toBe("false");
      const clamped = (await text.boundingBox())?.height ?? 0;
      await more.click();
      const less = card.getByRole("button", { name: "Show less" });
      expect(await less.getAttribute("aria-expanded")).toBe("true");
      expect((await text.boundingBox())?.height ?? 0).toBeGreaterThan(clamped);
      const img = card.getByRole("img", { name: "Picture of the post" });
      expect(await img.getAttribute("referrerpolicy")).toBe("no-referrer");
      expect(await img.getAttribute("loading")).toBe("lazy");
      // (a string: the test's own types know no DOM) the picture loaded: 1×1 pixel
      await expect
        .poll(() =>
          page.evaluate(
            `(() => { const i = document.querySelector(".post-card img"); return i && i.complete && i.naturalWidth; })()`,
          ),
        )
        .toBe(1);
      expect(await card.locator("time").getAttribute("datetime")).toMatch(/^2024-11-24T09:28:20/);
      expect(await card.locator("time").textContent()).toMatch(/^Posted /);
      expect(await card.getByRole("link", { name: "View on Facebook" }).getAttribute("href")).toBe(
        "https://www.facebook.com/melodia/posts/122134567890123456",
      );
      await expectAccessible(page);

      // an Instagram media whose picture expired: the picture goes, the caption and link stay
      const ig = await comment(agent, instagram, metaFixture("instagram-comment"));
      expect(await readPost(agent, instagram, IG_MEDIA)).toBe("stored");
      await page.goto(`${base}/inbox/c/${ig}`);
      await card.getByText("Your year in music is ready 🎧").waitFor();
      expect(await card.getByText("Your post on Instagram").count()).toBe(1);
      await card.locator("img").waitFor({ state: "detached" });
      expect(await card.getByRole("link", { name: "View on Instagram" }).getAttribute("href")).toBe(
        "https://www.instagram.com/p/C8xYz12AbCd/",
      );
      expect(await card.getByRole("button", { name: "Show more" }).count()).toBe(0);
      await expectAccessible(page);

      // a post Meta will not give: said so, its link still there
      const gone = `${PAGE}_122134567890999999`;
      const goneConversation = await comment(
        agent,
        messenger,
        metaFixture("feed-comment", {
          [FB_POST]: gone,
          "7012345678901234": "7012345678900001",
          "122134567890123456_1098765432109876": "122134567890999999_1098765432100001",
        }),
      );
      graph.answerNext(graphError(404, 100, "(#100) This post was deleted", { subcode: 33 }));
      expect(await readPost(agent, messenger, gone)).toBe("unavailable");
      await page.goto(`${base}/inbox/c/${goneConversation}`);
      await card.getByText("The post could not be loaded.").waitFor();
      expect(await card.getByRole("link", { name: "View on Facebook" }).getAttribute("href")).toBe(
        WEBHOOK_PERMALINK,
      );
      expect(await card.locator("img, time").count()).toBe(0);
      await expectAccessible(page);

      expect(errors).toEqual([]);
      await page.context().close();
    }, 240_000);
  }
});
