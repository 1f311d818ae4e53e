import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tz } from "../db/columns.ts";

/**
 * The job queue. A system table: `workspace_id` is carried for attribution but does not lead
 * the key, because workers claim across tenants (with Citus this stays a local table).
 * Finished jobs are deleted; jobs that ran out of attempts stay with state `failed`.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    workspaceId: uuid("workspace_id"),
    queue: text("queue").notNull(),
    task: text("task").notNull(),
    payload: jsonb("payload").$type<unknown>().notNull(),
    priority: integer("priority").notNull().default(0),
    runAt: tz("run_at").notNull().defaultNow(),
    state: text("state", { enum: ["queued", "running", "failed"] })
      .notNull()
      .default("queued"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(10),
    dedupeKey: text("dedupe_key"),
    lockedBy: text("locked_by"),
    lockedUntil: tz("locked_until"),
    lastError: text("last_error"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("jobs_ready_idx").on(t.queue, t.priority, t.runAt, t.id).where(sql`${t.state} = 'queued'`),
    index("jobs_lease_idx").on(t.queue, t.lockedUntil).where(sql`${t.state} = 'running'`),
    uniqueIndex("jobs_dedupe_key")
      .on(t.dedupeKey)
      .where(sql`${t.dedupeKey} IS NOT NULL AND ${t.state} <> 'failed'`),
  ],
);

/** One row per cron schedule: the last slot enqueued, so several schedulers fire a slot once. */
export const jobSchedules = pgTable("job_schedules", {
  name: text("name").primaryKey(),
  lastSlot: tz("last_slot").notNull(),
});
