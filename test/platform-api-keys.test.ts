import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { isUuid } from "../src/ids.ts";
import { recordAudit } from "../src/platform/audit.ts";
import { apiKeys, auditLog, users } from "../src/platform/tables.ts";
import { createUser } from "../src/platform/users.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
let db: Db;

beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
  db = app.ctx.database.db;
});
afterAll(async () => app?.close());

/**
 * Makes every audit insert of one workspace fail, to prove a change and its audit entry
 * commit together. Scoped to the workspace so parallel test files are not affected.
 */
async function failAuditWrites(workspaceId: string): Promise<() => Promise<void>> {
  if (!isUuid(workspaceId)) throw new Error("not a uuid");
  const name = `test_fail_audit_${workspaceId.replaceAll("-", "")}`;
  await db.execute(
    sql.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.workspace_id = '${workspaceId}' THEN RAISE EXCEPTION 'audit write refused by the test'; END IF;
        RETURN NEW;
      END $$`),
  );
  await db.execute(
    sql.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION ${name}()`),
  );
  return async () => {
    await db.execute(sql.raw(`DROP TRIGGER ${name} ON audit_log`));
    await db.execute(sql.raw(`DROP FUNCTION ${name}()`));
  };
}

describe("API keys over HTTP", () => {
  it("refuses agents (403)", async () => {
    const { cookies } = await signedIn(app, "agent");
    const create = await app.inject({
      method: "POST",
      url: "/api/v1/api-keys",
      cookies,
      payload: { kind: "secret", name: "x" },
    });
    expect(create.statusCode).toBe(403);
    expect(create.json().error.code).toBe("auth.forbidden");
    expect((await app.inject({ method: "GET", url: "/api/v1/api-keys", cookies })).statusCode).toBe(403);
  });

  it("shows a new key once, lists only its hint, and the key works as Bearer until revoked", async () => {
    const { cookies, workspace, user } = await signedIn(app, "admin");
    const created = await app.inject({
      method: "POST",
      url: "/api/v1/api-keys",
      cookies,
      payload: { kind: "secret", name: "CRM sync" },
    });
    expect(created.statusCode).toBe(201);
    const { apiKey, token } = created.json();
    expect(token).toMatch(/^sk_[0-9a-f]{32}_[0-9A-Za-z]{32}$/);
    expect(apiKey).toMatchObject({ kind: "secret", name: "CRM sync", createdBy: user.id, revokedAt: null });
    expect(apiKey.hint).toBe(`sk_…${token.slice(-4)}`);

    const list = await app.inject({ method: "GET", url: "/api/v1/api-keys", cookies });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(token);
    expect(list.body).not.toContain("tokenHash");
    expect(list.json().apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);

    const bearer = { authorization: `Bearer ${token}` };
    const ws = await app.inject({ method: "GET", url: "/api/v1/workspace", headers: bearer });
    expect(ws.statusCode).toBe(200);
    expect(ws.json().workspace.id).toBe(workspace.id);
    // an API key acts as the workspace: it passes the owner/admin checks
    expect((await app.inject({ method: "GET", url: "/api/v1/audit-log", headers: bearer })).statusCode).toBe(
      200,
    );
    // ...but has no user behind it
    expect((await app.inject({ method: "GET", url: "/api/v1/auth/me", headers: bearer })).statusCode).toBe(
      403,
    );

    const revoked = await app.inject({ method: "DELETE", url: `/api/v1/api-keys/${apiKey.id}`, cookies });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().apiKey.revokedAt).not.toBeNull();
    const after = await app.inject({ method: "GET", url: "/api/v1/workspace", headers: bearer });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe("auth.unauthorized");
    const twice = await app.inject({ method: "DELETE", url: `/api/v1/api-keys/${apiKey.id}`, cookies });
    expect(twice.statusCode).toBe(404);
  });

  it("answers another workspace's key id with 404 and leaves that key working", async () => {
    const mine = await signedIn(app, "owner");
    const theirs = await createTestWorkspace(app.ctx.database);
    const [theirKey] = await db.select().from(apiKeys).where(eq(apiKeys.workspaceId, theirs.workspace.id));
    if (!theirKey) throw new Error("the factory made no key");
    const res = await app.inject({
      method: "DELETE",
      url: `/api/v1/api-keys/${theirKey.id}`,
      cookies: mine.cookies,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("api_keys.not_found");
    const stillWorks = await app.inject({
      method: "GET",
      url: "/api/v1/workspace",
      headers: { authorization: `Bearer ${theirs.secretKey}` },
    });
    expect(stillWorks.statusCode).toBe(200);
    const bad = await app.inject({
      method: "DELETE",
      url: "/api/v1/api-keys/not-a-uuid",
      cookies: mine.cookies,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("request.invalid");
  });
});

describe("audit log", () => {
  it("records key creation and revocation, newest first, with cursor pagination", async () => {
    const { cookies, workspace, user } = await signedIn(app, "owner");
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) {
      const res = await app.inject({
        method: "POST",
        url: "/api/v1/api-keys",
        cookies,
        payload: { kind: "write", name },
      });
      ids.push(res.json().apiKey.id);
    }
    await app.inject({ method: "DELETE", url: `/api/v1/api-keys/${ids[0]}`, cookies });

    const first = await app.inject({ method: "GET", url: "/api/v1/audit-log?limit=2", cookies });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.entries.map((e: { action: string }) => e.action)).toEqual([
      "api_key.revoked",
      "api_key.created",
    ]);
    expect(page1.entries[0]).toMatchObject({
      actorKind: "user",
      actorId: user.id,
      targetKind: "api_key",
      targetId: ids[0],
    });
    expect(page1.entries[1].details).toMatchObject({ kind: "write", name: "three" });
    expect(page1.nextCursor).toBe(page1.entries[1].id);

    const rest = await app.inject({
      method: "GET",
      url: `/api/v1/audit-log?limit=2&cursor=${page1.nextCursor}`,
      cookies,
    });
    const page2 = rest.json();
    expect(page2.entries.map((e: { details: { name?: string } }) => e.details.name)).toEqual(["two", "one"]);
    // the sign-in that began the test is the oldest entry, alone on the last page
    const last = await app.inject({
      method: "GET",
      url: `/api/v1/audit-log?cursor=${page2.nextCursor}`,
      cookies,
    });
    expect(last.json().entries.map((e: { action: string }) => e.action)).toEqual(["auth.signed_in"]);
    expect(last.json().nextCursor).toBeNull();

    const filtered = await app.inject({
      method: "GET",
      url: "/api/v1/audit-log?action=api_key.created",
      cookies,
    });
    expect(filtered.json().entries).toHaveLength(3);
    const badCursor = await app.inject({ method: "GET", url: "/api/v1/audit-log?cursor=abc", cookies });
    expect(badCursor.statusCode).toBe(400);
    const all = await db.select().from(auditLog).where(eq(auditLog.workspaceId, workspace.id));
    expect(all).toHaveLength(5);
  });

  it("is for owners and admins only, and never shows another workspace's entries", async () => {
    const agent = await signedIn(app, "agent");
    expect(
      (await app.inject({ method: "GET", url: "/api/v1/audit-log", cookies: agent.cookies })).statusCode,
    ).toBe(403);
    const other = await createTestWorkspace(app.ctx.database);
    await recordAudit(db, {
      workspaceId: other.workspace.id,
      actor: { kind: "system" },
      action: "secret.thing",
    });
    const owner = await signedIn(app, "owner");
    const res = await app.inject({ method: "GET", url: "/api/v1/audit-log", cookies: owner.cookies });
    expect(res.json().entries.every((e: { action: string }) => e.action !== "secret.thing")).toBe(true);
  });

  it("commits with the change it records: when the entry cannot be written, the change is undone", async () => {
    const { cookies, workspace } = await signedIn(app, "owner");
    const agent = await createUser(db, {
      workspaceId: workspace.id,
      email: "ag@example.com",
      role: "agent",
      status: "active",
    });
    const restore = await failAuditWrites(workspace.id);
    try {
      const key = await app.inject({
        method: "POST",
        url: "/api/v1/api-keys",
        cookies,
        payload: { kind: "secret", name: "x" },
      });
      expect(key.statusCode).toBe(500);
      const role = await app.inject({
        method: "PATCH",
        url: `/api/v1/users/${agent.id}`,
        cookies,
        payload: { role: "admin" },
      });
      expect(role.statusCode).toBe(500);
      const invite = await app.inject({
        method: "POST",
        url: "/api/v1/users",
        cookies,
        payload: { email: "new@example.com", role: "agent" },
      });
      expect(invite.statusCode).toBe(500);
    } finally {
      await restore();
    }
    const keys = await db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.workspaceId, workspace.id), eq(apiKeys.name, "x")));
    expect(keys).toHaveLength(0);
    const [still] = await db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspace.id), eq(users.id, agent.id)));
    expect(still?.role).toBe("agent");
    const invited = await db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspace.id), eq(users.email, "new@example.com")));
    expect(invited).toHaveLength(0);
  });

  it("leaves no entry for a refused action", async () => {
    const { cookies, workspace, user } = await signedIn(app, "owner");
    const refused = await app.inject({
      method: "PATCH",
      url: `/api/v1/users/${user.id}`,
      cookies,
      payload: { role: "agent" },
    });
    expect(refused.json().error.code).toBe("users.last_owner");
    const entries = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspace.id), eq(auditLog.action, "user.role_changed")));
    expect(entries).toHaveLength(0);
  });
});

describe("OpenAPI", () => {
  it("documents the platform routes, with their security and error shapes", async () => {
    const res = await app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths;
    for (const path of [
      "/api/v1/users",
      "/api/v1/users/{id}",
      "/api/v1/api-keys",
      "/api/v1/audit-log",
      "/api/v1/auth/login",
    ]) {
      expect(paths[path], path).toBeDefined();
    }
    expect(paths["/api/v1/api-keys"].post.security).toEqual([{ secretKey: [] }, { sessionCookie: [] }]);
    expect(paths["/api/v1/api-keys"].post.tags).toEqual(["api-keys"]);
    expect(paths["/api/v1/users/{id}"].patch.responses["404"]).toBeDefined();
    // the pages are for people, not part of the API
    expect(paths["/login"]).toBeUndefined();
  });
});
