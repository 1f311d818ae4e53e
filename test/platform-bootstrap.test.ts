import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { type Database, MIGRATIONS_DIR, openDatabase } from "../src/db/client.ts";
import { testDatabaseUrl } from "../src/db/testing.ts";
import { buildApp } from "../src/http/app.ts";
import { bootstrap, createSignInLink, DEFAULT_ADMIN_EMAIL } from "../src/platform/bootstrap.ts";
import { users, workspaces } from "../src/platform/tables.ts";
import { randomToken } from "../src/platform/tokens.ts";

// Bootstrap acts on "a database with no workspace at all", which the shared per-file test
// database never is. Each test therefore gets an empty, migrated database of its own: on
// PGlite a fresh instance from the run's migrated snapshot; on PostgreSQL a dedicated
// schema (search_path) in the run's database, migrated there and dropped afterwards, so the
// concurrency test races two real connections.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function emptyDatabase(): Promise<Database> {
  const url = testDatabaseUrl();
  if (!url) {
    const snapshot = new Blob([readFileSync(inject("pgliteSnapshot"))]);
    const database = await openDatabase({ kind: "pglite", dataDir: undefined, snapshot });
    cleanups.push(() => database.close());
    return database;
  }
  const schema = `boot_${randomToken(10).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const scoped = new URL(url);
  scoped.searchParams.set("options", `-c search_path=${schema}`);
  const migrator = new pg.Client({ connectionString: scoped.toString() });
  await migrator.connect();
  await migratePg(drizzle({ client: migrator }), {
    migrationsFolder: MIGRATIONS_DIR,
    migrationsSchema: schema,
  });
  await migrator.end();
  const database = await openDatabase({ kind: "postgres", url: scoped.toString(), poolSize: 4 });
  cleanups.push(async () => {
    await database.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  });
  return database;
}

function configWith(env: Record<string, string> = {}) {
  return loadConfig({ LOG_LEVEL: "silent", RAPPORT_WORKSPACE_NAME: "Acme Care", ...env });
}

describe("bootstrap", () => {
  it("creates exactly one workspace and owner even when two starts race", async () => {
    const database = await emptyDatabase();
    const config = configWith({
      RAPPORT_ADMIN_EMAIL: "Boss@Acme.test",
      RAPPORT_ADMIN_PASSWORD: "correct horse battery staple",
    });
    const [a, b] = await Promise.all([bootstrap(database.db, config), bootstrap(database.db, config)]);
    expect([a?.created, b?.created].sort()).toEqual([false, true]);
    expect(a?.workspace.id).toBe(b?.workspace.id);
    expect(await database.db.select().from(workspaces)).toHaveLength(1);
    const owners = await database.db.select().from(users);
    expect(owners).toHaveLength(1);
    expect(owners[0]).toMatchObject({ email: "boss@acme.test", role: "owner", status: "active" });
    expect(a?.workspace).toMatchObject({ name: "Acme Care", slug: "acme-care" });
  });

  it("uses RAPPORT_ADMIN_EMAIL and RAPPORT_ADMIN_PASSWORD: no link, the password signs in", async () => {
    const database = await emptyDatabase();
    const config = configWith({
      RAPPORT_ADMIN_EMAIL: "boss@acme.test",
      RAPPORT_ADMIN_PASSWORD: "correct horse battery staple",
    });
    const result = await bootstrap(database.db, config);
    expect(result).toMatchObject({
      created: true,
      ownerCreated: true,
      owner: { email: "boss@acme.test", role: "owner" },
    });
    expect(result.signInUrl).toBeUndefined();
    const app = await buildApp({ config, database, logger: pino({ level: "silent" }) });
    try {
      const res = await app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email: "boss@acme.test", password: "correct horse battery staple" },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().workspace.slug).toBe("acme-care");
    } finally {
      await app.close();
    }
  });

  it("without a password, creates a password-less owner and a sign-in link that works once", async () => {
    const database = await emptyDatabase();
    const config = configWith();
    const result = await bootstrap(database.db, config);
    expect(result).toMatchObject({
      created: true,
      ownerCreated: true,
      owner: { email: DEFAULT_ADMIN_EMAIL },
    });
    const url = result.signInUrl ?? "";
    expect(url.startsWith(`${config.publicUrl}/auth/link?token=sl_`)).toBe(true);
    const app = await buildApp({ config, database, logger: pino({ level: "silent" }) });
    try {
      const path = url.slice(config.publicUrl.length);
      const link = await app.inject({ method: "GET", url: path });
      expect(link.statusCode).toBe(303);
      const cookie = link.cookies.find((c) => c.name === "rapport_session")?.value ?? "";
      const me = await app.inject({
        method: "GET",
        url: "/api/v1/auth/me",
        cookies: { rapport_session: cookie },
      });
      expect(me.json().user).toMatchObject({ email: DEFAULT_ADMIN_EMAIL, role: "owner" });
      expect((await app.inject({ method: "GET", url: path })).statusCode).toBe(400);

      // a later start prints nothing new; `rapport login-link` makes another link
      const again = await bootstrap(database.db, config);
      expect(again).toMatchObject({
        created: false,
        ownerCreated: false,
        owner: { email: DEFAULT_ADMIN_EMAIL },
      });
      expect(again.signInUrl).toBeUndefined();
      const owner = again.owner;
      if (!owner) throw new Error("no owner");
      const fresh = await createSignInLink(database.db, config, {
        workspaceId: again.workspace.id,
        userId: owner.id,
      });
      expect(
        (await app.inject({ method: "GET", url: fresh.url.slice(config.publicUrl.length) })).statusCode,
      ).toBe(303);
    } finally {
      await app.close();
    }
  });

  it("with only an email, creates that owner with a sign-in link", async () => {
    const database = await emptyDatabase();
    const result = await bootstrap(database.db, configWith({ RAPPORT_ADMIN_EMAIL: "ops@acme.test" }));
    expect(result.owner).toMatchObject({ email: "ops@acme.test", role: "owner" });
    expect(result.signInUrl).toContain("/auth/link?token=sl_");
  });

  it("on an existing database adds RAPPORT_ADMIN_EMAIL's owner only if missing, and never a second workspace", async () => {
    const database = await emptyDatabase();
    const first = await bootstrap(database.db, configWith());
    const added = await bootstrap(
      database.db,
      configWith({ RAPPORT_ADMIN_EMAIL: "second@acme.test", RAPPORT_WORKSPACE_NAME: "Other name" }),
    );
    expect(added).toMatchObject({
      created: false,
      ownerCreated: true,
      workspace: { id: first.workspace.id },
    });
    expect(added.owner).toMatchObject({ email: "second@acme.test", role: "owner" });
    const same = await bootstrap(database.db, configWith({ RAPPORT_ADMIN_EMAIL: "second@acme.test" }));
    expect(same).toMatchObject({ created: false, ownerCreated: false });
    expect(await database.db.select().from(workspaces)).toHaveLength(1);
    const owners = await database.db.select().from(users).where(eq(users.workspaceId, first.workspace.id));
    expect(owners.map((u) => u.email).sort()).toEqual([DEFAULT_ADMIN_EMAIL, "second@acme.test"]);
  });
});
