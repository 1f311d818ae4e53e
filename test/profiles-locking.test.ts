import { sql } from "drizzle-orm";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { rows } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace } from "./support/factories.ts";

describe("identity resolution under lock waits", () => {
  // Needs two sessions that block each other, which only PostgreSQL has (PGlite runs one).
  it.skipIf(!testDatabaseUrl())(
    "sees a user id attached by the transaction it waited for, and does not attach a second",
    async () => {
      const { db } = await testDatabase();
      const ws = (await createTestWorkspace()).workspace.id;
      const first = await identify(db, ws, {
        identifiers: [
          { kind: "anonymous_id", value: "lock-anon" },
          { kind: "email", value: "lock@example.com" },
        ],
        reason: "test",
        defaultCountry: "US",
      });
      const c = first.customerId;

      // another session holds the customer and gives it a user id, not yet committed
      const other = new pg.Client({ connectionString: testDatabaseUrl() });
      await other.connect();
      await other.query("BEGIN");
      await other.query("SELECT id FROM customers WHERE workspace_id = $1 AND id = $2 FOR UPDATE", [ws, c]);
      await other.query(
        "INSERT INTO identities (workspace_id, kind, value, customer_id) VALUES ($1, 'user_id', 'u-first', $2)",
        [ws, c],
      );

      const second = identify(db, ws, {
        identifiers: [
          { kind: "email", value: "lock@example.com" },
          { kind: "user_id", value: "u-second" },
        ],
        reason: "test",
        defaultCountry: "US",
      });
      // let the second resolution reach the customer's lock and wait there
      for (let i = 0; i < 50; i++) {
        const waiting = await other.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'rapport-test'",
        );
        if (waiting.rows[0]?.n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await other.query("COMMIT");
      await other.end();

      const result = await second;
      expect(result.customerId).not.toBe(c);
      expect(result.conflicts).toEqual([{ kind: "email", value: "lock@example.com" }]);
      const uids = await rows<{ value: string }>(
        db,
        sql`SELECT value FROM identities WHERE workspace_id = ${ws} AND kind = 'user_id' AND customer_id = ${c}`,
      );
      expect(uids.map((u) => u.value)).toEqual(["u-first"]);
    },
  );
});
