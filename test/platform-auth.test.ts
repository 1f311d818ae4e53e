import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import type { Role } from "../src/platform/roles.ts";
import { authenticateSession } from "../src/platform/sessions.ts";
import { createSignInLink } from "../src/platform/sign-in.ts";
import { auditLog, sessions } from "../src/platform/tables.ts";
import { createUser } from "../src/platform/users.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

const PASSWORD = "correct horse battery staple";
let app: App;
let db: Db;

beforeAll(async () => {
  // a generous limit here; the rate-limit test builds its own app with a small one
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
  db = app.ctx.database.db;
});
afterAll(async () => app?.close());

async function member(workspaceId: string, role: Role = "agent", password: string | null = PASSWORD) {
  const email = `${role}-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(db, {
    workspaceId,
    email,
    role,
    status: "active",
    passwordHash: password ? await hashPassword(password) : null,
  });
  return { ...user, email };
}

async function login(body: Record<string, unknown>, target: App = app) {
  return target.inject({ method: "POST", url: "/api/v1/auth/login", payload: body });
}

function sessionCookie(res: { cookies: Array<{ name: string; value: string }> }): string {
  const cookie = res.cookies.find((c) => c.name === "rapport_session");
  if (!cookie) throw new Error("no session cookie was set");
  return cookie.value;
}

describe("password sign-in", () => {
  it("sets an httpOnly, SameSite=Lax session cookie that /me accepts", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id, "admin");
    const res = await login({ email: user.email.toUpperCase(), password: PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      user: { id: user.id, email: user.email, role: "admin" },
      workspace: { id: workspace.id },
    });
    expect(res.json().user.passwordHash).toBeUndefined();
    const cookie = res.cookies.find((c) => c.name === "rapport_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    // publicUrl is http://localhost:3000 in tests, so the cookie is not Secure
    expect(cookie?.secure).toBeFalsy();
    expect(cookie?.value).toMatch(/^ss_[0-9a-f]{32}_[0-9A-Za-z]{40}$/);

    const me = await app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { rapport_session: sessionCookie(res) },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { id: user.id }, workspace: { slug: workspace.slug } });

    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, "auth.signed_in")));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorKind: "user", actorId: user.id });
  });

  it("marks the cookie Secure when the public URL is https", async () => {
    const secureApp = await testApp({ RAPPORT_PUBLIC_URL: "https://care.example.com" });
    try {
      const { workspace } = await createTestWorkspace(secureApp.ctx.database);
      const user = await member(workspace.id);
      const res = await login({ email: user.email, password: PASSWORD }, secureApp);
      expect(res.cookies.find((c) => c.name === "rapport_session")?.secure).toBe(true);
    } finally {
      await secureApp.close();
    }
  });

  it("answers a wrong password and an unknown email with the same 401", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id);
    const wrong = await login({ email: user.email, password: "not the password at all" });
    const unknown = await login({ email: `nobody-${uuidv7()}@example.com`, password: PASSWORD });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe("auth.invalid_credentials");
    expect(wrong.cookies).toHaveLength(0);
    // the failed attempt against a real member is visible to the workspace's admins
    const failed = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, "auth.sign_in_failed")));
    expect(failed).toHaveLength(1);
    expect(failed[0]?.targetId).toBe(user.id);
  });

  it("refuses a password for a user who has none (sign-in by link only)", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const linkOnly = await member(workspace.id, "agent", null);
    const res = await login({ email: linkOnly.email, password: PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("auth.invalid_credentials");
  });

  it("asks for the workspace only when the password opens several, listing only those", async () => {
    const email = `multi-${uuidv7().slice(-12)}@example.com`;
    const tag = uuidv7().slice(-12);
    const a = await createWorkspace(db, { name: "A", slug: `a-${tag}` });
    const b = await createWorkspace(db, { name: "B", slug: `b-${tag}` });
    const c = await createWorkspace(db, { name: "C", slug: `c-${tag}` });
    const hash = await hashPassword(PASSWORD);
    for (const w of [a, b])
      await createUser(db, { workspaceId: w.id, email, role: "agent", status: "active", passwordHash: hash });
    await createUser(db, {
      workspaceId: c.id,
      email,
      role: "agent",
      status: "active",
      passwordHash: await hashPassword("another password entirely"),
    });

    const wrong = await login({ email, password: "not the password at all" });
    expect(wrong.statusCode).toBe(401);
    expect(JSON.stringify(wrong.json())).not.toContain(tag);

    const ambiguous = await login({ email, password: PASSWORD });
    expect(ambiguous.statusCode).toBe(409);
    expect(ambiguous.json().error).toMatchObject({
      code: "auth.workspace_required",
      details: { workspaces: [a.slug, b.slug] },
    });

    const chosen = await login({ email, password: PASSWORD, workspace: b.slug });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json().workspace.id).toBe(b.id);
    // the password of workspace C opens C alone: no question to ask
    const onlyC = await login({ email, password: "another password entirely" });
    expect(onlyC.statusCode).toBe(200);
    expect(onlyC.json().workspace.id).toBe(c.id);
  });

  it("rate-limits sign-in per address with auth.rate_limited", async () => {
    const limited = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "3" });
    try {
      const body = { email: `nobody-${uuidv7()}@example.com`, password: PASSWORD };
      for (let i = 0; i < 3; i++) expect((await login(body, limited)).statusCode).toBe(401);
      const refused = await login(body, limited);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe("auth.rate_limited");
      expect(refused.headers["retry-after"]).toBeDefined();
      // another address has its own budget
      const other = await limited.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: body,
        remoteAddress: "10.9.8.7",
      });
      expect(other.statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it("signs out: the session stops working and the cookie is cleared", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id);
    const token = sessionCookie(await login({ email: user.email, password: PASSWORD }));
    const out = await app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      cookies: { rapport_session: token },
    });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === "rapport_session")?.value).toBe("");
    const me = await app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { rapport_session: token },
    });
    expect(me.statusCode).toBe(401);
  });

  it("stops a disabled user's session at once", async () => {
    const { workspace, secretKey } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id);
    const token = sessionCookie(await login({ email: user.email, password: PASSWORD }));
    const before = await app.inject({
      method: "GET",
      url: "/api/v1/users",
      cookies: { rapport_session: token },
    });
    expect(before.statusCode).toBe(200);
    const disable = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: `Bearer ${secretKey}` },
      payload: { disabled: true },
    });
    expect(disable.statusCode).toBe(200);
    expect(disable.json().user.status).toBe("disabled");
    const after = await app.inject({
      method: "GET",
      url: "/api/v1/users",
      cookies: { rapport_session: token },
    });
    expect(after.statusCode).toBe(401);
    // with the right password the person learns why, and whom to ask
    const again = await login({ email: user.email, password: PASSWORD });
    expect(again.statusCode).toBe(403);
    expect(again.json().error.code).toBe("auth.account_disabled");
  });

  it("slides a session's expiry at most once a minute", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id);
    const token = sessionCookie(await login({ email: user.email, password: PASSWORD }));
    const [row] = await db.select().from(sessions).where(eq(sessions.userId, user.id));
    if (!row) throw new Error("no session row");
    const soon = new Date(Date.now() + 30_000);
    expect((await authenticateSession(db, token, soon))?.expiresAt).toEqual(row.expiresAt);
    const later = new Date(Date.now() + 10 * 24 * 3600 * 1000);
    const slid = await authenticateSession(db, token, later);
    expect(slid?.expiresAt.getTime()).toBe(later.getTime() + 30 * 24 * 3600 * 1000);
    // past the (slid) end the session is gone
    expect(
      await authenticateSession(db, token, new Date(later.getTime() + 31 * 24 * 3600 * 1000)),
    ).toBeUndefined();
  });
});

describe("sign-in links", () => {
  it("work once: the first use signs in and redirects, the second is refused", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id, "owner", null);
    const { url } = await createSignInLink(db, app.ctx.config, {
      workspaceId: workspace.id,
      userId: user.id,
    });
    expect(url.startsWith(`${app.ctx.config.publicUrl}/auth/link?token=sl_`)).toBe(true);
    const path = url.slice(app.ctx.config.publicUrl.length);

    const first = await app.inject({ method: "GET", url: path });
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe("/");
    const me = await app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { rapport_session: sessionCookie(first) },
    });
    expect(me.json().user.id).toBe(user.id);

    const second = await app.inject({ method: "GET", url: path });
    expect(second.statusCode).toBe(400);
    expect(second.headers["content-type"]).toContain("text/html");
    expect(second.body).toContain("already been used");
    expect(second.cookies).toHaveLength(0);
    const json = await app.inject({ method: "GET", url: path, headers: { accept: "application/json" } });
    expect(json.json().error.code).toBe("auth.token_used");

    const used = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, "auth.sign_in_link_used")));
    expect(used).toHaveLength(1);
  });

  it("race to a single session when used twice at once", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id, "owner", null);
    const { url } = await createSignInLink(db, app.ctx.config, {
      workspaceId: workspace.id,
      userId: user.id,
    });
    const path = url.slice(app.ctx.config.publicUrl.length);
    const results = await Promise.all([1, 2, 3].map(() => app.inject({ method: "GET", url: path })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([303, 400, 400]);
    expect(await db.select().from(sessions).where(eq(sessions.userId, user.id))).toHaveLength(1);
  });

  it("refuse an expired, a tampered and a missing token", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id, "owner", null);
    const dayAndABitAgo = new Date(Date.now() - 25 * 3600 * 1000);
    const old = await createSignInLink(db, app.ctx.config, {
      workspaceId: workspace.id,
      userId: user.id,
      now: dayAndABitAgo,
    });
    const expired = await app.inject({
      method: "GET",
      url: old.url.slice(app.ctx.config.publicUrl.length),
      headers: { accept: "application/json" },
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error.code).toBe("auth.token_expired");

    const fresh = await createSignInLink(db, app.ctx.config, { workspaceId: workspace.id, userId: user.id });
    const tampered = `${fresh.url.slice(app.ctx.config.publicUrl.length, -3)}xyz`;
    const bad = await app.inject({ method: "GET", url: tampered });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("not valid");
    expect(bad.body).toContain('lang="en"');
    const missing = await app.inject({ method: "GET", url: "/auth/link" });
    expect(missing.statusCode).toBe(400);
    expect(await db.select().from(sessions).where(eq(sessions.userId, user.id))).toHaveLength(0);
  });
});

describe("REST authentication", () => {
  it("answers a call without credentials with 401 auth.unauthorized", async () => {
    const res = await app.inject({ method: "GET", url: "/api/v1/users" });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("auth.unauthorized");
    const bogus = await app.inject({
      method: "GET",
      url: "/api/v1/users",
      cookies: { rapport_session: "ss_nope" },
    });
    expect(bogus.statusCode).toBe(401);
  });

  it("answers malformed JSON with 400 request.malformed_json", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      headers: { "content-type": "application/json" },
      payload: '{"email": "a@example.com", "password": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("request.malformed_json");
  });

  it("refuses a cookie-authenticated change coming from another site", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const owner = await member(workspace.id, "owner");
    const token = sessionCookie(await login({ email: owner.email, password: PASSWORD }));
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/api-keys",
      cookies: { rapport_session: token },
      headers: { origin: "https://evil.example" },
      payload: { kind: "secret", name: "stolen" },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("auth.forbidden");
    const same = await app.inject({
      method: "POST",
      url: "/api/v1/api-keys",
      cookies: { rapport_session: token },
      headers: { origin: app.ctx.config.publicUrl },
      payload: { kind: "secret", name: "ours" },
    });
    expect(same.statusCode).toBe(201);
  });

  it("changes a password: the current one is required, other sessions end", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const user = await member(workspace.id);
    const mine = sessionCookie(await login({ email: user.email, password: PASSWORD }));
    const other = sessionCookie(await login({ email: user.email, password: PASSWORD }));
    const change = (body: Record<string, string>) =>
      app.inject({
        method: "PUT",
        url: "/api/v1/auth/password",
        cookies: { rapport_session: mine },
        payload: body,
      });
    const wrong = await change({
      currentPassword: "not the password at all",
      newPassword: "a brand new passphrase",
    });
    expect(wrong.statusCode).toBe(401);
    const weak = await change({ currentPassword: PASSWORD, newPassword: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe("users.weak_password");
    expect(
      (await change({ currentPassword: PASSWORD, newPassword: "a brand new passphrase" })).statusCode,
    ).toBe(204);
    const meMine = await app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { rapport_session: mine },
    });
    const meOther = await app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { rapport_session: other },
    });
    expect([meMine.statusCode, meOther.statusCode]).toEqual([200, 401]);
    expect((await login({ email: user.email, password: "a brand new passphrase" })).statusCode).toBe(200);
  });
});
