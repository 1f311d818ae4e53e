import { sql } from "drizzle-orm";
import { z } from "zod";
import { defineTask, type Schedule } from "../jobs/index.ts";

/**
 * Upkeep that PostgreSQL's autovacuum does on a server but the embedded database (PGlite, one
 * session, no background workers) never does by itself: fresh planner statistics, so queries
 * keep their index plans as tables grow, and dead rows reclaimed. `analyze` is quick and runs
 * often; `vacuum` blocks the single session while it runs, so it runs once a night.
 */
export const maintenanceTask = defineTask({
  name: "db.maintenance",
  schema: z.object({ vacuum: z.boolean() }),
  maxAttempts: 1,
  handler: async (payload, job) => {
    await job.db.execute(payload.vacuum ? sql`VACUUM (ANALYZE)` : sql`ANALYZE`);
  },
});

/** The embedded database's schedules (a server's autovacuum needs none). */
export const embeddedMaintenanceSchedules: Schedule[] = [
  { name: "db.analyze", cron: "0 */15 * * * *", task: maintenanceTask, payload: { vacuum: false } },
  { name: "db.vacuum", cron: "0 30 3 * * *", task: maintenanceTask, payload: { vacuum: true } },
];
