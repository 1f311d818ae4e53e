import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";

// system tables: the tenants themselves, and the job queue that workers claim across tenants
const SYSTEM = new Set(["workspaces", "jobs", "job_schedules"]);

describe("tenant isolation in the schema", () => {
  it("gives every tenant table a workspace_id that leads each primary key and unique index", async () => {
    const { db } = await testDatabase();
    const tables = await rows<{ table: string; hasWorkspace: boolean }>(
      db,
      sql`SELECT c.relname AS "table",
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id'
              AND NOT a.attisdropped) AS "hasWorkspace"
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'`,
    );
    const tenant = tables.filter((t) => !SYSTEM.has(t.table));
    expect(tenant.length).toBeGreaterThan(8);
    expect(tenant.filter((t) => !t.hasWorkspace).map((t) => t.table)).toEqual([]);

    const keys = await rows<{ table: string; index: string; first: string }>(
      db,
      sql`SELECT t.relname AS "table", i.relname AS "index", a.attname AS "first"
          FROM pg_index x
          JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
          WHERE n.nspname = 'public' AND (x.indisunique OR x.indisprimary)`,
    );
    const offenders = keys.filter((k) => !SYSTEM.has(k.table) && k.first !== "workspace_id");
    expect(offenders).toEqual([]);
    expect(keys.filter((k) => !SYSTEM.has(k.table)).length).toBeGreaterThan(10);
  });
});
