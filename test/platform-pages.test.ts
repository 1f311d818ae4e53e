import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { escapeHtml, html } from "../src/pages/html.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import { createUser } from "../src/platform/users.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

const PASSWORD = "correct horse battery staple";
let app: App;

beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => app?.close());

async function member(name = "Ada") {
  const { workspace } = await createTestWorkspace(app.ctx.database);
  const email = `page-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(app.ctx.database.db, {
    workspaceId: workspace.id,
    email,
    name,
    role: "agent",
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  return { workspace, user, email };
}

function form(body: Record<string, string>) {
  return {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams(body).toString(),
  };
}

describe("sign-in pages", () => {
  it("serves an accessible, phone-sized sign-in form", async () => {
    const res = await app.inject({ method: "GET", url: "/login" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toMatch(/^<!doctype html><html lang="en">/);
    expect(res.body).toContain('name="viewport" content="width=device-width, initial-scale=1"');
    expect(res.body).toContain('<label for="email">');
    expect(res.body).toContain('<label for="password">');
    expect(res.body).toContain('autocomplete="current-password"');
  });

  it("signs in through the form and shows the home page, then signs out", async () => {
    const { workspace, email } = await member();
    const res = await app.inject({ method: "POST", url: "/login", ...form({ email, password: PASSWORD }) });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/inbox/");
    const cookie = res.cookies.find((c) => c.name === "rapport_session");
    expect(cookie?.httpOnly).toBe(true);
    const cookies = { rapport_session: cookie?.value ?? "" };
    const home = await app.inject({ method: "GET", url: "/", cookies });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain(workspace.name);
    expect(home.body).toContain(email);
    expect(home.body).toContain('href="/api/docs"');
    expect((await app.inject({ method: "GET", url: "/login", cookies })).headers.location).toBe("/inbox/");
    const back = await app.inject({ method: "GET", url: "/login?next=%2Finbox%2Fc%2F1", cookies });
    expect(back.headers.location).toBe("/inbox/c/1");
    // only a path on this site: another site's address falls back to the inbox
    for (const next of ["//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example/"]) {
      const res = await app.inject({
        method: "GET",
        url: `/login?next=${encodeURIComponent(next)}`,
        cookies,
      });
      expect(res.headers.location, next).toBe("/inbox/");
    }

    const out = await app.inject({ method: "POST", url: "/logout", cookies });
    expect(out.statusCode).toBe(303);
    const after = await app.inject({ method: "GET", url: "/", cookies });
    expect(after.body).toContain('href="/login"');
    expect(after.body).not.toContain(email);
  });

  it("re-shows the form with the error and the email on a wrong password", async () => {
    const { email } = await member();
    const res = await app.inject({
      method: "POST",
      url: "/login",
      ...form({ email, password: "not the password" }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain("The email or password is wrong.");
    expect(res.body).toContain(`value="${email}"`);
    expect(res.cookies).toHaveLength(0);
  });

  it("offers a workspace choice when the password opens several", async () => {
    const email = `multi-${uuidv7().slice(-12)}@example.com`;
    const hash = await hashPassword(PASSWORD);
    const slugs: string[] = [];
    for (const name of ["One", "Two"]) {
      const w = await createWorkspace(app.ctx.database.db, {
        name,
        slug: `${name.toLowerCase()}-${uuidv7().slice(-12)}`,
      });
      slugs.push(w.slug);
      await createUser(app.ctx.database.db, {
        workspaceId: w.id,
        email,
        role: "agent",
        status: "active",
        passwordHash: hash,
      });
    }
    const res = await app.inject({ method: "POST", url: "/login", ...form({ email, password: PASSWORD }) });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('<select id="workspace" name="workspace" required>');
    for (const slug of slugs) expect(res.body).toContain(`<option value="${slug}">`);
    const chosen = await app.inject({
      method: "POST",
      url: "/login",
      ...form({ email, password: PASSWORD, workspace: slugs[1] ?? "" }),
    });
    expect(chosen.statusCode).toBe(303);
  });

  it("escapes names and workspace names", async () => {
    const { email } = await member('<script>alert("x")</script>');
    const res = await app.inject({ method: "POST", url: "/login", ...form({ email, password: PASSWORD }) });
    const home = await app.inject({
      method: "GET",
      url: "/",
      cookies: { rapport_session: res.cookies.find((c) => c.name === "rapport_session")?.value ?? "" },
    });
    expect(home.body).not.toContain("<script>");
    expect(home.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(escapeHtml(`'&`)).toBe("&#39;&amp;");
    expect(html`<p title="${'"><b>'}">${["a", html`<i>b</i>`]}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;b&gt;">a<i>b</i></p>',
    );
  });

  it("answers an invitation page without a token with a clear page", async () => {
    const res = await app.inject({ method: "GET", url: "/invite" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("has no token");
  });
});
