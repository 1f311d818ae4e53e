import { Cron } from "croner";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { z } from "zod";
import { type Database, rows } from "../db/client.ts";
import { type EnqueueSpec, enqueue, type TaskRef } from "./enqueue.ts";

export const ScheduleConfig = z.object({
  name: z.string().min(1).max(200),
  /** A cron pattern; croner reads 5 fields, or 6 with seconds first. */
  cron: z.string().min(1),
  queue: z.string().min(1).max(100).optional(),
  /** An IANA zone such as Europe/Paris; the default is UTC. */
  timezone: z.string().min(1).optional(),
});

export type Schedule<P = unknown> = z.infer<typeof ScheduleConfig> & {
  task: string | TaskRef<P>;
  payload: NoInfer<P>;
};

export type SchedulerOptions = {
  database: Database;
  schedules: Schedule[];
  logger: Logger;
  /**
   * A slot missed while no scheduler ran (a deploy, an outage) is still enqueued if a scheduler
   * comes back within this window; older slots are skipped, and only the latest is ever caught
   * up. It also keeps a new daily schedule from firing the moment it is deployed.
   */
  catchUpMs?: number;
};

export type Scheduler = {
  start(): void;
  stop(): Promise<void>;
  /** Enqueues the slots due at `at` that no scheduler took yet; returns how many it enqueued. */
  tick(at?: Date): Promise<number>;
};

type Compiled = { schedule: Schedule; cron: Cron };

// a timer never sleeps longer than this, so a changed wall clock is noticed within a minute
const MAX_SLEEP_MS = 60_000;

/** The latest slot of `cron` at or before `at` (croner skips a slot in the very same ms). */
function latestSlot(cron: Cron, at: Date): Date | undefined {
  const [slot] = cron.previousRuns(1, new Date(at.getTime() + 1));
  return slot && slot.getTime() <= at.getTime() ? slot : undefined;
}

/**
 * Enqueues jobs on cron schedules. Any number of schedulers may run (one per process): each
 * slot is claimed in `job_schedules` in the same transaction as its enqueue, so it is enqueued
 * exactly once. The job's run_at is the slot time.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { database, logger } = options;
  const catchUpMs = options.catchUpMs ?? 10 * 60_000;
  const names = new Set<string>();
  const compiled: Compiled[] = options.schedules.map((schedule) => {
    const config = ScheduleConfig.parse(schedule);
    if (names.has(config.name)) throw new Error(`schedule ${config.name} is declared twice`);
    names.add(config.name);
    try {
      const cron = new Cron(config.cron, {
        paused: true,
        ...(config.timezone ? { timezone: config.timezone } : {}),
      });
      return { schedule, cron };
    } catch (err) {
      throw new Error(`schedule ${config.name}: invalid cron "${config.cron}" or timezone: ${String(err)}`);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let current: Promise<unknown> = Promise.resolve();

  async function fire({ schedule }: Compiled, slot: Date): Promise<boolean> {
    return database.db.transaction(async (tx) => {
      const claimed = await rows<{ name: string }>(
        tx,
        sql`INSERT INTO job_schedules (name, last_slot) VALUES (${schedule.name}, ${slot.toISOString()}::timestamptz)
          ON CONFLICT (name) DO UPDATE SET last_slot = excluded.last_slot
          WHERE job_schedules.last_slot < excluded.last_slot
          RETURNING name`,
      );
      if (claimed.length === 0) return false;
      const spec: EnqueueSpec = {
        task: schedule.task,
        payload: schedule.payload,
        runAt: slot,
        ...(schedule.queue ? { queue: schedule.queue } : {}),
      };
      await enqueue(tx, spec);
      return true;
    });
  }

  async function tick(at: Date = new Date()): Promise<number> {
    let enqueued = 0;
    for (const c of compiled) {
      const slot = latestSlot(c.cron, at);
      if (!slot || at.getTime() - slot.getTime() > catchUpMs) continue;
      try {
        if (await fire(c, slot)) {
          enqueued += 1;
          logger.debug({ schedule: c.schedule.name, slot }, "scheduled job enqueued");
        }
      } catch (err) {
        logger.error({ err, schedule: c.schedule.name }, "enqueueing a scheduled job failed");
      }
    }
    return enqueued;
  }

  function arm(): void {
    if (!running) return;
    const now = new Date();
    const next = Math.min(...compiled.map((c) => c.cron.nextRun(now)?.getTime() ?? Number.POSITIVE_INFINITY));
    // a few ms late so the slot is strictly in the past when we compute it
    const delay = Math.min(Math.max(next - now.getTime() + 5, 0), MAX_SLEEP_MS);
    timer = setTimeout(() => {
      current = tick().finally(arm);
    }, delay);
  }

  return {
    tick,
    start() {
      if (running || compiled.length === 0) return;
      running = true;
      // catch up a slot missed while no scheduler ran, then follow the clock
      current = tick().finally(arm);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await current.catch(() => {});
    },
  };
}
