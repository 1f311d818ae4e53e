import { readFileSync } from "node:fs";
import { inject } from "vitest";
import { type Database, openDatabase } from "./client.ts";

let shared: Promise<Database> | undefined;

/**
 * The database for the current test file: PostgreSQL when the run has DATABASE_URL, else a
 * PGlite loaded from the run's migrated snapshot. One per file; tests never share rows
 * because each creates its own workspace.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    const url = inject("databaseUrl");
    if (url) return openDatabase({ kind: "postgres", url, poolSize: 10, applicationName: "rapport-test" });
    const snapshot = new Blob([readFileSync(inject("pgliteSnapshot"))]);
    return openDatabase({ kind: "pglite", dataDir: undefined, snapshot });
  })();
  return shared;
}

/** The connection URL when the run is on PostgreSQL, else undefined. */
export function testDatabaseUrl(): string | undefined {
  return inject("databaseUrl") || undefined;
}
