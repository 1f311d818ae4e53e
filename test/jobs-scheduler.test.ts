import { eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Database } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { uuidv7 } from "../src/ids.ts";
import { listJobs } from "../src/jobs/admin.ts";
import { createScheduler, type Schedule, type Scheduler } from "../src/jobs/scheduler.ts";
import { jobSchedules } from "../src/jobs/tables.ts";
import { defineTask } from "../src/jobs/task.ts";
import { silentLogger, sleep, uniqueQueue } from "./support/job-helpers.ts";

let database: Database;
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  database = await testDatabase();
});

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});

function scheduler(schedules: Schedule[], catchUpMs?: number): Scheduler {
  const s = createScheduler({
    database,
    schedules,
    logger: silentLogger,
    ...(catchUpMs ? { catchUpMs } : {}),
  });
  schedulers.push(s);
  return s;
}

const report = defineTask({
  name: "test.report",
  schema: z.object({ kind: z.string() }),
  handler: async () => {},
});

describe("scheduler", () => {
  it("enqueues each slot once when two schedulers tick at the same moment", async () => {
    const queue = uniqueQueue();
    const schedule: Schedule<{ kind: string }> = {
      name: `every-5-min-${uuidv7()}`,
      cron: "*/5 * * * *",
      task: report,
      payload: { kind: "digest" },
      queue,
    };
    const a = scheduler([schedule]);
    const b = scheduler([schedule]);
    const slots = [0, 5, 10, 15, 20].map((m) => new Date(Date.UTC(2030, 0, 1, 9, m)));
    for (const slot of slots) {
      const at = new Date(slot.getTime() + 1_500);
      const fired = await Promise.all([a.tick(at), b.tick(at), a.tick(at), b.tick(at)]);
      expect(fired.reduce((x, y) => x + y, 0)).toBe(1);
      // a later tick in the same slot finds it taken
      expect(await b.tick(new Date(slot.getTime() + 60_000))).toBe(0);
    }
    const enqueued = await listJobs(database.db, { queue, limit: 100 });
    expect(enqueued.map((j) => j.runAt.toISOString())).toEqual(slots.map((s) => s.toISOString()));
    expect(enqueued.every((j) => j.task === "test.report" && j.state === "queued")).toBe(true);
    expect(enqueued[0]?.payload).toEqual({ kind: "digest" });
    const [row] = await database.db.select().from(jobSchedules).where(eq(jobSchedules.name, schedule.name));
    expect(row?.lastSlot.toISOString()).toBe(slots.at(-1)?.toISOString());
  });

  it("catches up the latest missed slot within the window, and skips older ones", async () => {
    const queue = uniqueQueue();
    const daily: Schedule = {
      name: `daily-${uuidv7()}`,
      cron: "0 6 * * *",
      timezone: "Europe/Paris",
      task: "test.report",
      payload: { kind: "daily" },
      queue,
    };
    const s = scheduler([daily], 10 * 60_000);
    // 06:00 in Paris is 05:00 UTC in winter; a new schedule deployed at 15:00 must not fire now
    expect(await s.tick(new Date("2030-01-10T15:00:00Z"))).toBe(0);
    // back 4 minutes after the slot (a deploy): it fires once
    expect(await s.tick(new Date("2030-01-11T05:04:00Z"))).toBe(1);
    expect(await s.tick(new Date("2030-01-11T05:09:00Z"))).toBe(0);
    const enqueued = await listJobs(database.db, { queue, limit: 10 });
    expect(enqueued.map((j) => j.runAt.toISOString())).toEqual(["2030-01-11T05:00:00.000Z"]);
  });

  it("follows the clock once started, with two schedulers running, one job per second", async () => {
    const queue = uniqueQueue();
    const schedule: Schedule = {
      name: `every-second-${uuidv7()}`,
      cron: "* * * * * *",
      task: "test.report",
      payload: { kind: "tick" },
      queue,
    };
    const a = scheduler([schedule]);
    const b = scheduler([schedule]);
    a.start();
    b.start();
    await sleep(2_300);
    await Promise.all([a.stop(), b.stop()]);
    const enqueued = await listJobs(database.db, { queue, limit: 100 });
    const slots = enqueued.map((j) => j.runAt.getTime());
    expect(enqueued.length).toBeGreaterThanOrEqual(2);
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.every((t) => t % 1_000 === 0)).toBe(true);
  });

  it("refuses an invalid cron pattern and a schedule declared twice", () => {
    const base = { task: "test.report", payload: {} };
    expect(() => scheduler([{ ...base, name: "bad", cron: "every day" }])).toThrow(
      /schedule bad: invalid cron/,
    );
    expect(() =>
      scheduler([
        { ...base, name: "twice", cron: "* * * * *" },
        { ...base, name: "twice", cron: "* * * * *" },
      ]),
    ).toThrow(/declared twice/);
  });
});
