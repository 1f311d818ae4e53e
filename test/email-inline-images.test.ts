import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sanitizeEmailHtml } from "../src/channels/email/sanitize-html.ts";
import { attachmentStoreFor } from "../src/conversations/attachments.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { App } from "../src/http/app.ts";
import { emlFixture } from "./support/email-inbound.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

// An email's inline images show in the agent's screen: the parts are stored, the sanitised HTML
// points at where Rapport serves them, and the served files are safe to open.

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_DATA_DIR: mkdtempSync(join(tmpdir(), "rapport-inline-")) });
});
afterAll(async () => app?.close());

type Message = {
  html: string | null;
  attachments: Array<{ key: string; name: string; contentType: string }>;
  metadata: Record<string, unknown>;
};

/** An agent's workspace with an email inbox, and the message a fixture became there. */
async function ingestAs(fixture: string) {
  const agent = await signedIn(app, "agent");
  const inbox = await createInbox(app.ctx.database.db, agent.workspace.id, {
    kind: "email",
    name: "Support",
    address: "support@melodia.example",
  });
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/inboxes/${inbox.id}/email`,
    headers: { authorization: `Bearer ${agent.secretKey}`, "content-type": "message/rfc822" },
    payload: emlFixture(fixture),
  });
  expect(res.statusCode).toBe(200);
  const { conversationId } = res.json<{ conversationId: string }>();
  const list = await app.inject({
    method: "GET",
    url: `/api/v1/conversations/${conversationId}/messages`,
    cookies: agent.cookies,
  });
  const [message] = list.json<{ data: Message[] }>().data;
  if (!message) throw new Error("no message stored");
  return { agent, message };
}

const srcs = (html: string | null) => [...(html ?? "").matchAll(/src="([^"]*)"/g)].map((m) => m[1]);

describe("inline images of inbound email", () => {
  it("rewrites cid: references to the stored parts' served URLs, which signed-in agents load", async () => {
    const { agent, message } = await ingestAs("07-inline-image.eml");
    const [image] = message.attachments;
    expect(image).toMatchObject({ name: "scratch.png", contentType: "image/png" });
    const url = `/api/v1/attachments/${image?.key}`;
    expect(message.html).toContain(`<img src="${url}" alt="scratch" width="400">`);
    expect(message.html).not.toContain("cid:");
    expect(message.metadata.inlineImages).toEqual({ "scratch-photo@fastmail.example": image?.key });

    const res = await app.inject({ method: "GET", url, cookies: agent.cookies });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("image/png");
    expect(res.headers["content-disposition"]).toBe(
      `inline; filename="scratch.png"; filename*=UTF-8''scratch.png`,
    );
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["content-security-policy"]).toContain("sandbox");
    expect(res.rawPayload.subarray(1, 4).toString()).toBe("PNG");
  });

  it("matches encoded and case-changed Content-IDs, drops references to parts the email lacks", async () => {
    const { message } = await ingestAs("19-inline-mixed.eml");
    const byName = new Map(message.attachments.map((a) => [a.name, a.key]));
    expect([...byName.keys()].sort()).toEqual(["drawing.svg", "page.html", "photo.png"]);
    expect(srcs(message.html)).toEqual([
      `/api/v1/attachments/${byName.get("photo.png")}`,
      `/api/v1/attachments/${byName.get("drawing.svg")}`,
      // the missing part: no src at all (a cid: the browser cannot load is noise)
      "https://tracker.example/p.gif",
    ]);
    expect(message.html).toContain('<img alt="gone">');
  });

  it("serves an SVG or an HTML attachment as a download that cannot run script", async () => {
    const { agent, message } = await ingestAs("19-inline-mixed.eml");
    for (const name of ["drawing.svg", "page.html"]) {
      const file = message.attachments.find((a) => a.name === name);
      const res = await app.inject({
        method: "GET",
        url: `/api/v1/attachments/${file?.key}`,
        cookies: agent.cookies,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-disposition"]).toBe(
        `attachment; filename="${name}"; filename*=UTF-8''${name}`,
      );
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["content-security-policy"]).toBe(
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
      );
    }
  });

  it("keeps cid: references as written when no resolver is given (the sanitiser alone)", () => {
    expect(sanitizeEmailHtml('<img src="cid:a@b">')).toBe('<img src="cid:a@b">');
    expect(
      sanitizeEmailHtml('<img src="cid:a%40b">', { cid: (id) => (id === "a@b" ? "/x" : undefined) }),
    ).toBe('<img src="/x">');
    // what a resolver answers is escaped like any attribute
    expect(sanitizeEmailHtml('<img src="cid:a">', { cid: () => '/x" onerror="alert(1)' })).toBe(
      '<img src="/x&quot; onerror=&quot;alert(1)">',
    );
  });
});

describe("attachments served to agents", () => {
  it("another workspace's attachment, an unknown key, a malformed key: 404; no sign-in: 401", async () => {
    const { agent, message } = await ingestAs("07-inline-image.eml");
    const key = message.attachments[0]?.key ?? "";
    const stranger = await signedIn(app, "agent");
    const get = (url: string, cookies?: Record<string, string>) =>
      app.inject({ method: "GET", url, ...(cookies ? { cookies } : {}) });

    const theirs = await get(`/api/v1/attachments/${key}`, stranger.cookies);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ error: { code: "conversations.attachment_not_found" } });
    // the store really holds it: only the workspace decides
    expect(await attachmentStoreFor(app.ctx.config.dataDir).get(agent.workspace.id, key)).toBeDefined();

    const unknown = key.replace(/[0-9a-f]{16}$/, "0".repeat(16));
    expect((await get(`/api/v1/attachments/${unknown}`, agent.cookies)).statusCode).toBe(404);
    for (const bad of ["..%2F..%2Fetc/passwd", "2025-01/..", "2025-01/not-a-key"]) {
      const res = await get(`/api/v1/attachments/${bad}`, agent.cookies);
      expect(res.statusCode).toBe(404);
    }
    const anonymous = await get(`/api/v1/attachments/${key}`);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: "auth.unauthorized" } });
  });

  it("a stored type that is not a media type is served as application/octet-stream, as a download", async () => {
    const agent = await signedIn(app, "agent");
    const store = attachmentStoreFor(app.ctx.config.dataDir);
    const saved = await store.put(agent.workspace.id, {
      name: "naïve résumé.txt",
      contentType: "text/html\r\nset-cookie: a=b",
      data: Buffer.from("<script>alert(1)</script>"),
    });
    const res = await app.inject({
      method: "GET",
      url: `/api/v1/attachments/${saved.key}`,
      cookies: agent.cookies,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["content-disposition"]).toBe(
      `attachment; filename="na_ve r_sum_.txt"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt`,
    );
  });
});
