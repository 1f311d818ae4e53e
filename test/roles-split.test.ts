import { afterAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "../src/db/testing.ts";
import { cli, killChildren } from "./support/cli.ts";
import { createTestWorkspace } from "./support/factories.ts";

afterAll(() => killChildren());

describe("roles split across processes on PostgreSQL", () => {
  // PGlite is one process by design (the data-folder lock refuses a second), so the split
  // can only run on PostgreSQL; CI runs this file with DATABASE_URL set.
  it.skipIf(!testDatabaseUrl())(
    "an api process accepts events and a separate worker process folds them in",
    async () => {
      const url = testDatabaseUrl() ?? "";
      const t = await createTestWorkspace();
      const env = { DATABASE_URL: url, RAPPORT_ADMIN_EMAIL: "owner@example.com" };
      const api = cli(["start", "--role", "api", "--port", "0"], env);
      await api.waitFor("Rapport ready", 60_000);
      const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(api.output())?.[1];
      expect(port).toBeDefined();
      const base = `http://127.0.0.1:${port}`;
      const res = await fetch(`${base}/v1/track`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ userId: "split-1", event: "Split Roles" }),
      });
      expect(res.status).toBe(200);

      // nothing folds the event until a worker runs
      await new Promise((r) => setTimeout(r, 1000));
      const list = async () => {
        const r = await fetch(`${base}/api/v1/customers?userId=split-1`, {
          headers: { authorization: `Bearer ${t.secretKey}` },
        });
        return ((await r.json()) as { data: unknown[] }).data;
      };
      expect(await list()).toEqual([]);

      const worker = cli(["worker"], env);
      await worker.waitFor("Rapport ready", 60_000);
      let found: unknown[] = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        found = await list();
        if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toHaveLength(1);
      api.child.kill("SIGTERM");
      worker.child.kill("SIGTERM");
      expect(await api.exited).toBe(0);
      expect(await worker.exited).toBe(0);
    },
    120_000,
  );

  it("refuses to split roles on the embedded database, saying why", async () => {
    const api = cli(["start", "--role", "api"], { DATABASE_URL: "" });
    expect(await api.exited).toBe(1);
    expect(api.output()).toContain("Splitting roles across processes needs PostgreSQL: set DATABASE_URL");
  });
});
