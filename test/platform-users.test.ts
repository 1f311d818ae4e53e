import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { auditLog, users } from "../src/platform/tables.ts";
import { createUser, findUserByEmail, updateUser } from "../src/platform/users.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { PASSWORD, signedIn } from "./support/sign-in.ts";

let app: App;
let db: Db;

beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
  db = app.ctx.database.db;
});
afterAll(async () => app?.close());

function tokenOf(inviteUrl: string): string {
  const token = new URL(inviteUrl).searchParams.get("token");
  if (!token) throw new Error("the invite URL has no token");
  return token;
}

describe("invitations", () => {
  it("invite → accept → sign in, with audit entries", async () => {
    const { workspace, cookies, user: admin } = await signedIn(app, "admin");
    const email = `New.Agent-${uuidv7().slice(-12)}@Example.com`;
    const invite = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email, role: "agent" },
    });
    expect(invite.statusCode).toBe(201);
    const body = invite.json();
    expect(body.user).toMatchObject({ email: email.toLowerCase(), role: "agent", status: "invited" });
    expect(body.inviteUrl.startsWith(`${app.ctx.config.publicUrl}/invite?token=iv_`)).toBe(true);
    expect(new Date(body.expiresAt).getTime() - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);

    // the link opens a page with the form
    const page = await app.inject({
      method: "GET",
      url: body.inviteUrl.slice(app.ctx.config.publicUrl.length),
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<label for="password">');

    const token = tokenOf(body.inviteUrl);
    const weak = await app.inject({
      method: "POST",
      url: "/api/v1/auth/accept-invite",
      payload: { token, name: "Ada", password: "short" },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).toMatchObject({ code: "users.weak_password", details: { field: "password" } });

    const accepted = await app.inject({
      method: "POST",
      url: "/api/v1/auth/accept-invite",
      payload: { token, name: "Ada", password: PASSWORD },
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().user).toMatchObject({ name: "Ada", status: "active" });
    expect(accepted.cookies.find((c) => c.name === "rapport_session")?.httpOnly).toBe(true);

    const again = await app.inject({
      method: "POST",
      url: "/api/v1/auth/accept-invite",
      payload: { token, name: "Eve", password: "another long password" },
    });
    expect(again.json().error.code).toBe("auth.token_used");

    const login = await app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email, password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().workspace.id).toBe(workspace.id);

    const actions = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.workspaceId, workspace.id))
      .orderBy(auditLog.id);
    const invited = actions.find((a) => a.action === "user.invited");
    expect(invited).toMatchObject({ actorKind: "user", actorId: admin.id, targetId: body.user.id });
    expect(actions.find((a) => a.action === "user.invite_accepted")).toMatchObject({ actorId: body.user.id });
  });

  it("accepts the invitation through the form page too", async () => {
    const { cookies } = await signedIn(app, "owner");
    const email = `form-${uuidv7().slice(-12)}@example.com`;
    const invite = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email, role: "admin" },
    });
    const token = tokenOf(invite.json().inviteUrl);
    const weak = await app.inject({
      method: "POST",
      url: "/invite",
      payload: { token, name: "Grace", password: "short" },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain("at least 12 characters");
    expect(weak.body).toContain('value="Grace"');
    const ok = await app.inject({
      method: "POST",
      url: "/invite",
      payload: { token, name: "Grace", password: PASSWORD },
    });
    expect(ok.statusCode).toBe(303);
    const home = await app.inject({
      method: "GET",
      url: "/",
      cookies: { rapport_session: ok.cookies.find((c) => c.name === "rapport_session")?.value ?? "" },
    });
    expect(home.body).toContain("Grace");
  });

  it("names the bad field for a bad email or an unknown role", async () => {
    const { cookies } = await signedIn(app, "owner");
    const badEmail = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email: "nope", role: "agent" },
    });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.code).toBe("request.invalid");
    expect(badEmail.json().error.message).toMatch(/^body\.email: /);
    const badRole = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email: "someone@example.com", role: "superuser" },
    });
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().error.message).toMatch(/^body\.role: /);
  });

  it("lets only owners and admins invite, and only owners invite owners", async () => {
    const agent = await signedIn(app, "agent");
    const byAgent = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies: agent.cookies,
      payload: { email: "x@example.com", role: "agent" },
    });
    expect(byAgent.statusCode).toBe(403);
    expect(byAgent.json().error.code).toBe("auth.forbidden");
    const admin = await signedIn(app, "admin");
    const ownerByAdmin = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies: admin.cookies,
      payload: { email: "x@example.com", role: "owner" },
    });
    expect(ownerByAdmin.statusCode).toBe(403);
    const rows = await db.select().from(users).where(eq(users.workspaceId, admin.workspace.id));
    expect(rows).toHaveLength(1);
  });

  it("re-inviting a pending email sends a fresh link and retires the old one; a member is a conflict", async () => {
    const { cookies, user: owner } = await signedIn(app, "owner");
    const email = `again-${uuidv7().slice(-12)}@example.com`;
    const first = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email, role: "agent" },
    });
    const second = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email, role: "admin" },
    });
    expect(second.statusCode).toBe(201);
    expect(second.json().user).toMatchObject({ id: first.json().user.id, role: "admin" });
    const old = await app.inject({
      method: "POST",
      url: "/api/v1/auth/accept-invite",
      payload: { token: tokenOf(first.json().inviteUrl), name: "Old", password: PASSWORD },
    });
    expect(old.statusCode).toBe(400);
    const member = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies,
      payload: { email: owner.email, role: "agent" },
    });
    expect(member.statusCode).toBe(409);
    expect(member.json().error.code).toBe("users.already_exists");
  });
});

describe("roles and disabling", () => {
  it("changes a role and lists the team", async () => {
    const { cookies, workspace } = await signedIn(app, "owner");
    const agent = await createUser(db, {
      workspaceId: workspace.id,
      email: "a@example.com",
      role: "agent",
      status: "active",
    });
    const res = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${agent.id}`,
      cookies,
      payload: { role: "admin" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.role).toBe("admin");
    const list = await app.inject({ method: "GET", url: "/api/v1/users", cookies });
    expect(list.json().users.map((u: { email: string }) => u.email)).toContain("a@example.com");
    expect((await findUserByEmail(db, workspace.id, " A@Example.COM "))?.id).toBe(agent.id);
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, "user.role_changed")));
    expect(entry?.details).toEqual({ from: "agent", to: "admin" });
    const empty = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${agent.id}`,
      cookies,
      payload: {},
    });
    expect(empty.statusCode).toBe(400);
  });

  it("keeps the last owner: no demotion, no disabling; a second owner makes it possible", async () => {
    const { cookies, user: owner, workspace } = await signedIn(app, "owner");
    const demote = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${owner.id}`,
      cookies,
      payload: { role: "admin" },
    });
    expect(demote.statusCode).toBe(400);
    expect(demote.json().error.code).toBe("users.last_owner");
    const disable = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${owner.id}`,
      cookies,
      payload: { disabled: true },
    });
    expect(disable.json().error.code).toBe("users.last_owner");
    expect((await app.inject({ method: "GET", url: "/api/v1/auth/me", cookies })).json().user.role).toBe(
      "owner",
    );

    const other = await createUser(db, {
      workspaceId: workspace.id,
      email: "o2@example.com",
      role: "admin",
      status: "active",
    });
    const promote = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${other.id}`,
      cookies,
      payload: { role: "owner" },
    });
    expect(promote.statusCode).toBe(200);
    const nowOk = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${owner.id}`,
      cookies,
      payload: { role: "admin" },
    });
    expect(nowOk.statusCode).toBe(200);
    // the role is read on every request: the former owner is an admin at once
    const promoteBack = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${owner.id}`,
      cookies,
      payload: { role: "owner" },
    });
    expect(promoteBack.statusCode).toBe(403);
  });

  it("never lets two concurrent demotions remove every owner", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const a = await createUser(db, {
      workspaceId: workspace.id,
      email: "a@example.com",
      role: "owner",
      status: "active",
    });
    const b = await createUser(db, {
      workspaceId: workspace.id,
      email: "b@example.com",
      role: "owner",
      status: "active",
    });
    const system = { kind: "api_key", id: uuidv7() } as const;
    const results = await Promise.allSettled([
      updateUser(db, { workspaceId: workspace.id, actor: system, userId: a.id, role: "agent" }),
      updateUser(db, { workspaceId: workspace.id, actor: system, userId: b.id, disabled: true }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const owners = await db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspace.id), eq(users.role, "owner"), eq(users.status, "active")));
    expect(owners).toHaveLength(1);
  });

  it("lets admins manage agents but not owners", async () => {
    const { cookies, workspace } = await signedIn(app, "admin");
    const owner = await createUser(db, {
      workspaceId: workspace.id,
      email: "boss@example.com",
      role: "owner",
      status: "active",
    });
    const res = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${owner.id}`,
      cookies,
      payload: { disabled: true },
    });
    expect(res.statusCode).toBe(403);
    const agent = await createUser(db, {
      workspaceId: workspace.id,
      email: "ag@example.com",
      role: "agent",
      status: "active",
    });
    const ok = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${agent.id}`,
      cookies,
      payload: { disabled: true },
    });
    expect(ok.json().user.status).toBe("disabled");
    const back = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${agent.id}`,
      cookies,
      payload: { disabled: false },
    });
    // never signed in and no password: back to invited, to be invited again
    expect(back.json().user.status).toBe("invited");
  });

  it("answers another workspace's user id with 404 and a malformed id with 400", async () => {
    const mine = await signedIn(app, "owner");
    const theirs = await signedIn(app, "owner");
    for (const method of ["GET", "PATCH"] as const) {
      const res = await app.inject({
        method,
        url: `/api/v1/users/${theirs.user.id}`,
        cookies: mine.cookies,
        ...(method === "PATCH" ? { payload: { role: "agent" } } : {}),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("users.not_found");
    }
    const [unchanged] = await db.select().from(users).where(eq(users.id, theirs.user.id));
    expect(unchanged?.role).toBe("owner");
    const bad = await app.inject({
      method: "PATCH",
      url: "/api/v1/users/42",
      cookies: mine.cookies,
      payload: { role: "agent" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe("params.id: must be a UUID");
  });
});
