import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { App } from "../src/http/app.ts";
import { foldQuotedHistory, MESSAGE_HTML_CSP, messageDocument } from "../src/http/routes/message-html.ts";
import { uuidv7 } from "../src/ids.ts";
import { emlFixture } from "./support/email-inbound.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

// An email's HTML is read in a sandboxed frame: its own document, under a policy where nothing
// runs or loads from elsewhere, with the quoted history folded; other tenants find nothing.

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DATA_DIR: mkdtempSync(join(tmpdir(), "rapport-message-html-")) });
});
afterAll(async () => app?.close());

type Agent = Awaited<ReturnType<typeof signedIn>>;

/** An email inbox of the agent's workspace, and the conversation a raw email became there. */
async function emailIn(agent: Agent, raw: Buffer) {
  const inbox = await createInbox(app.ctx.database.db, agent.workspace.id, {
    kind: "email",
    name: "Support",
    address: `support-${uuidv7().slice(-8)}@melodia.example`,
  });
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${inbox.id}/email`,
    headers: { authorization: `Bearer ${agent.secretKey}`, "content-type": "message/rfc822" },
    payload: raw,
  });
  expect(res.statusCode).toBe(200);
  const { conversationId, messageId } = res.json<{ conversationId: string; messageId: string }>();
  return { conversationId, messageId };
}

function eml(html: string, subject = "Hello"): Buffer {
  return Buffer.from(
    [
      "From: Lena Novak <lena@fastmail.example>",
      "To: support@melodia.example",
      `Subject: ${subject}`,
      `Message-ID: <${uuidv7()}@fastmail.example>`,
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      html,
      "",
    ].join("\r\n"),
  );
}

const get = (agent: Agent | undefined, url: string) =>
  app.inject({ method: "GET", url, ...(agent ? { cookies: agent.cookies } : {}) });
const htmlUrl = (c: string, m: string, q = "") => `/api/v1/conversations/${c}/messages/${m}/html${q}`;

describe("GET /api/v1/conversations/:id/messages/:messageId/html", () => {
  it("answers the sanitised HTML as its own document under a policy where nothing runs", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(agent, emlFixture("02-gmail-reply.eml"));
    const res = await get(agent, htmlUrl(conversationId, messageId));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toBe(MESSAGE_HTML_CSP);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toMatch(/; sandbox allow-same-origin/);
    expect(csp).not.toContain("allow-scripts");
    expect(csp).not.toContain("script-src");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    // links open in a new tab
    expect(res.body).toContain('<base target="_blank">');
    // the answer comes first, the quoted history folded below it, its attribution line with it
    const [answer = "", quoted = ""] = res.body.split('<details class="rapport-quoted">');
    expect(answer).toContain("Thank you, the new tracking number works.");
    expect(answer).not.toContain("sorry for the wait");
    expect(quoted).toContain("<summary>Show quoted text</summary>");
    expect(quoted).toContain("wrote:");
    expect(quoted).toContain("sorry for the wait");
  });

  it("folds an Apple Mail cited blockquote, and speaks the agent's language", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(agent, emlFixture("04-apple-mail-reply.eml"));
    const res = await get(agent, htmlUrl(conversationId, messageId, "?lang=fr"));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="fr">');
    expect(res.body).toMatch(
      /<details class="rapport-quoted"><summary>Afficher le texte cité<\/summary>[\s\S]*<blockquote type="cite">/,
    );
  });

  it("leaves remote images out and says how many, keeping the ones Rapport serves", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(
      agent,
      eml(
        '<p>Look <img src="https://tracker.example/open.gif" alt="pixel"> and <img src="http://cdn.example/a.png"></p>',
      ),
    );
    const res = await get(agent, htmlUrl(conversationId, messageId));
    expect(res.body).not.toContain("tracker.example");
    expect(res.body).not.toContain("cdn.example");
    expect(res.body).toContain("2 remote images hidden");
    expect(res.body).toContain('alt="pixel"');
    const inline = await emailIn(agent, emlFixture("07-inline-image.eml"));
    const own = await get(agent, htmlUrl(inline.conversationId, inline.messageId));
    expect(own.body).toMatch(/<img src="\/api\/v1\/attachments\/\d{4}-\d{2}\/[0-9a-f-]+"/);
    expect(own.body).not.toContain("remote image");
  });

  it("keeps script and handlers out, whatever was stored", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(
      agent,
      eml(
        '<p onclick="alert(1)">Hi<script>alert(2)</script><img src=x onerror=alert(3)><a href="javascript:alert(4)">x</a></p>',
      ),
    );
    const res = await get(agent, htmlUrl(conversationId, messageId));
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toMatch(/<script|onclick|onerror|javascript:/i);
    // stored HTML that never went through the sanitiser (an agent's own HTML) is sanitised on the way out
    const doc = messageDocument('<b>ok</b><script>alert(1)</script><svg onload="alert(2)"></svg>', "en");
    expect(doc).toContain("<b>ok</b>");
    expect(doc).not.toMatch(/<script|<svg|onload/i);
  });

  it("is not found for another workspace's agent, a message of another conversation, or one without HTML", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(agent, eml("<p>Private to this workspace</p>"));
    const stranger = await signedIn(app, "owner");
    const other = await get(stranger, htmlUrl(conversationId, messageId));
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe("conversations.conversation_not_found");
    expect(other.body).not.toContain("Private to this workspace");

    const second = await emailIn(agent, eml("<p>another thread</p>", "Another subject"));
    const crossed = await get(agent, htmlUrl(second.conversationId, messageId));
    expect(crossed.statusCode).toBe(404);
    expect(crossed.json().error.code).toBe("conversations.message_not_found");

    const unknown = await get(agent, htmlUrl(conversationId, uuidv7()));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("conversations.message_not_found");

    // a message of another channel has no HTML
    const api = await createInbox(app.ctx.database.db, agent.workspace.id, { kind: "api", name: "App" });
    const posted = await app.inject({
      method: "POST",
      url: `/api/v1/inboxes/${api.id}/messages`,
      headers: { authorization: `Bearer ${agent.secretKey}` },
      payload: { from: { email: "sam@example.com" }, text: "plain words" },
    });
    expect(posted.statusCode).toBeLessThan(300);
    const plain = posted.json<{ conversationId: string; messageId: string }>();
    const none = await get(agent, htmlUrl(plain.conversationId, plain.messageId));
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe("conversations.message_html_not_found");
  });

  it("refuses bad ids with 400, a bad language with 400, and a signed-out caller with 401", async () => {
    const agent = await signedIn(app, "agent");
    const { conversationId, messageId } = await emailIn(agent, eml("<p>hi</p>"));
    const badConversation = await get(agent, htmlUrl("not-a-uuid", messageId));
    expect(badConversation.statusCode).toBe(400);
    expect(badConversation.json().error.code).toBe("conversations.invalid_id");
    const badMessage = await get(agent, htmlUrl(conversationId, "42"));
    expect(badMessage.statusCode).toBe(400);
    expect(badMessage.json().error.code).toBe("conversations.invalid_id");
    expect(badMessage.json().error.message).toContain('"42" is not a message id');
    const badLang = await get(agent, htmlUrl(conversationId, messageId, "?lang=xx"));
    expect(badLang.statusCode).toBe(400);
    const anonymous = await get(undefined, htmlUrl(conversationId, messageId));
    expect(anonymous.statusCode).toBe(401);
  });
});

describe("foldQuotedHistory", () => {
  it("folds a plain 'On … wrote:' block and all that follows", () => {
    const html =
      "<div>Yes, Tuesday works.</div><div>On Mon, 2 Nov 2026, Ada wrote:</div><div>&gt; Tuesday?</div>";
    expect(foldQuotedHistory(html, "Q")).toBe(
      '<div>Yes, Tuesday works.</div><details class="rapport-quoted"><summary>Q</summary><div>On Mon, 2 Nov 2026, Ada wrote:</div><div>&gt; Tuesday?</div></details>',
    );
  });

  it("cuts inside nested elements, copying the ancestors around the folded part", () => {
    const html = '<div><p>Thanks!</p><blockquote type="cite"><p>old</p></blockquote><p>after</p></div>';
    expect(foldQuotedHistory(html, "Q")).toBe(
      '<div><p>Thanks!</p></div><details class="rapport-quoted"><summary>Q</summary><div><blockquote type="cite"><p>old</p></blockquote><p>after</p></div></details>',
    );
  });

  it("leaves a message without a quote, or one that is nothing but a quote, as it is", () => {
    expect(foldQuotedHistory("<p>Just words</p>", "Q")).toBe("<p>Just words</p>");
    const forward = '<blockquote type="cite"><p>all of it</p></blockquote>';
    expect(foldQuotedHistory(forward, "Q")).toBe(forward);
    // a plain blockquote (a citation in the text, not a cited reply) stays
    expect(foldQuotedHistory("<p>As they say:</p><blockquote>be kind</blockquote>", "Q")).toBe(
      "<p>As they say:</p><blockquote>be kind</blockquote>",
    );
  });
});
