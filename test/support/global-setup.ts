import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate, openDatabase } from "../../src/db/client.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteSnapshot: string;
    databaseUrl: string;
  }
}

/**
 * Prepares the database once per run. On PostgreSQL (DATABASE_URL set) it recreates the
 * test database and migrates it; on PGlite it migrates a fresh instance and dumps it, so
 * each test file loads a ready snapshot instead of paying for initdb.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const target = new URL(url);
    const dbName = target.pathname.slice(1) || "rapport_test";
    const admin = new URL(url);
    admin.pathname = "/postgres";
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [dbName],
    );
    await c.query(`DROP DATABASE IF EXISTS "${dbName}"`);
    await c.query(`CREATE DATABASE "${dbName}"`);
    await c.end();
    const database = await openDatabase({ kind: "postgres", url, poolSize: 1 });
    await migrate(database, url);
    await database.close();
    project.provide("databaseUrl", url);
    project.provide("pgliteSnapshot", "");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "rapport-test-"));
  const seed = await openDatabase({ kind: "pglite", dataDir: undefined });
  await migrate(seed);
  const blob = await seed.pglite!.dumpDataDir("none");
  await seed.close();
  const snapshot = join(dir, "snapshot.tar");
  writeFileSync(snapshot, Buffer.from(await blob.arrayBuffer()));
  project.provide("databaseUrl", "");
  project.provide("pgliteSnapshot", snapshot);
  return () => rmSync(dir, { recursive: true, force: true });
}
