import { Cron } from "croner";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/client.ts";
import { rows } from "../src/db/client.ts";
import { embeddedMaintenanceSchedules, maintenanceTask } from "../src/db/maintenance.ts";
import { testDatabase } from "../src/db/testing.ts";
import { listJobs } from "../src/jobs/admin.ts";
import { enqueue } from "../src/jobs/enqueue.ts";
import { createWorker } from "../src/jobs/worker.ts";
import { allSchedules, schedulesFor } from "../src/tasks.ts";
import { silentLogger, uniqueQueue, waitFor } from "./support/job-helpers.ts";

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});

/** When the conversations table was last analysed and vacuumed by hand (not by autovacuum). */
async function upkeep() {
  const [row] = await rows<{ analyzed: string | null; vacuumed: string | null }>(
    database.db,
    sql`SELECT to_json(last_analyze)#>>'{}' AS analyzed, to_json(last_vacuum)#>>'{}' AS vacuumed
        FROM pg_stat_user_tables WHERE relname = 'conversations' AND schemaname = 'public'`,
  );
  return row;
}

describe("the embedded database's upkeep", () => {
  it("analyses often and vacuums nightly, through the job runtime (outside any transaction)", async () => {
    const before = await upkeep();
    const queue = uniqueQueue("upkeep");
    await enqueue(database.db, { task: maintenanceTask, payload: { vacuum: false }, queue });
    await enqueue(database.db, { task: maintenanceTask, payload: { vacuum: true }, queue });
    const worker = createWorker({
      database,
      tasks: [maintenanceTask],
      queues: { [queue]: 1 },
      pollMs: 20,
      logger: silentLogger,
    });
    await worker.start();
    try {
      // a job that succeeds leaves the table; one that fails stays, with its error
      await waitFor("both upkeep jobs to end", async () => {
        const left = await listJobs(database.db, { queue, limit: 10 });
        return left.every((j) => j.state === "failed");
      });
    } finally {
      await worker.stop();
    }
    const failed = await listJobs(database.db, { queue, limit: 10 });
    expect(failed.map((j) => j.lastError)).toEqual([]);
    const after = await upkeep();
    expect(after?.analyzed).not.toBeNull();
    expect(after?.vacuumed).not.toBeNull();
    if (before?.vacuumed)
      expect(Date.parse(after?.vacuumed ?? "")).toBeGreaterThan(Date.parse(before.vacuumed));
  });

  it("is scheduled on the embedded database only (a server's autovacuum does it there)", () => {
    expect(schedulesFor("postgres")).toEqual(allSchedules);
    expect(schedulesFor("pglite").map((s) => s.name)).toEqual([
      ...allSchedules.map((s) => s.name),
      "db.analyze",
      "db.vacuum",
    ]);
    // every quarter of an hour, and 03:30 each night (UTC)
    const next = (name: string, from: string) => {
      const schedule = embeddedMaintenanceSchedules.find((x) => x.name === name);
      return new Cron(schedule?.cron ?? "", { timezone: "UTC", paused: true })
        .nextRun(new Date(from))
        ?.toISOString();
    };
    expect(next("db.analyze", "2026-11-24T10:07:12Z")).toBe("2026-11-24T10:15:00.000Z");
    expect(next("db.analyze", "2026-11-24T10:45:00Z")).toBe("2026-11-24T11:00:00.000Z");
    expect(next("db.vacuum", "2026-11-24T10:07:12Z")).toBe("2026-11-25T03:30:00.000Z");
  });
});
