import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { enqueueMany } from "../src/jobs/enqueue.ts";
import {
  claimJobs,
  completeJob,
  extendLeases,
  failJob,
  newLockToken,
  reapExpiredJobs,
  releaseJobs,
} from "../src/jobs/store.ts";
import { jobs } from "../src/jobs/tables.ts";
import { uniqueQueue } from "./support/job-helpers.ts";

// A model-based property over the claim protocol: three simulated workers claim, complete,
// fail, release and extend jobs while leases expire at random points (the test moves locked_until
// into the past, as a crashed worker's silence would). After every step: a job is held by at
// most one worker (only its current claim can finish it), and no job is lost or finished twice.

const WORKERS = 3;
const JOBS = 2;
const MAX_ATTEMPTS = 3;

type Held = { id: number; lockToken: string };
type Step =
  | { kind: "claim"; worker: number; limit: number }
  | { kind: "complete" | "fail" | "release"; worker: number; pick: number }
  | { kind: "extend"; worker: number }
  | { kind: "expire"; pick: number }
  | { kind: "reap" };

const worker = fc.integer({ min: 0, max: WORKERS - 1 });
const pick = fc.nat(20);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("claim" as const),
      worker,
      limit: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom("complete" as const, "fail" as const, "release" as const),
      worker,
      pick,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("expire" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("extend" as const), worker }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reap" as const) }) },
);

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});

async function snapshot(queue: string) {
  const list = await database.db
    .select({
      id: jobs.id,
      state: jobs.state,
      lockedBy: jobs.lockedBy,
      attempts: jobs.attempts,
      expired: sql<boolean>`coalesce(${jobs.lockedUntil} < now(), false)`,
    })
    .from(jobs)
    .where(eq(jobs.queue, queue));
  return new Map(list.map((r) => [r.id, r]));
}

async function run(steps: Step[]): Promise<void> {
  const { db } = database;
  const queue = uniqueQueue("prop");
  const ids = await enqueueMany(
    db,
    Array.from({ length: JOBS }, (_, n) => ({
      task: "prop.job",
      queue,
      payload: { n },
      maxAttempts: MAX_ATTEMPTS,
    })),
  );
  const held: Held[][] = Array.from({ length: WORKERS }, () => []);
  const completed = new Map<number, number>();

  for (const s of steps) {
    const before = await snapshot(queue);
    if (s.kind === "claim") {
      const lockToken = newLockToken(`w${s.worker}`);
      const claimed = await claimJobs(db, {
        queue,
        tasks: ["prop.job"],
        limit: s.limit,
        leaseMs: 60_000,
        lockToken,
      });
      for (const job of claimed) {
        const was = before.get(job.id);
        // only a queued job or one whose lease expired with attempts left may be claimed
        expect(
          was?.state === "queued" || (was?.state === "running" && was.expired && was.attempts < MAX_ATTEMPTS),
        ).toBe(true);
        expect(job.attempts).toBe((was?.attempts ?? 0) + 1);
        held[s.worker]!.push({ id: job.id, lockToken: job.lockToken });
      }
    } else if (s.kind === "complete" || s.kind === "fail" || s.kind === "release") {
      const mine = held[s.worker]!;
      if (mine.length === 0) continue;
      const [h] = mine.splice(s.pick % mine.length, 1);
      const row = before.get(h!.id);
      const live = row?.state === "running" && row.lockedBy === h!.lockToken;
      if (s.kind === "complete") {
        const ok = await completeJob(db, h!);
        expect(ok).toBe(live);
        if (ok) completed.set(h!.id, (completed.get(h!.id) ?? 0) + 1);
      } else if (s.kind === "fail") {
        const outcome = await failJob(db, h!, { error: "boom", delayMs: 0, permanent: false });
        expect(outcome).toBe(live ? (row.attempts >= MAX_ATTEMPTS ? "failed" : "queued") : null);
      } else {
        expect(await releaseJobs(db, [h!], "released")).toHaveLength(live ? 1 : 0);
      }
    } else if (s.kind === "extend") {
      const mine = held[s.worker]!;
      const live = mine.filter((h) => {
        const row = before.get(h.id);
        return row?.state === "running" && row.lockedBy === h.lockToken;
      });
      // the heartbeat keeps only what this worker still holds, and tells it what it lost
      expect(await extendLeases(db, mine, 60_000)).toEqual(new Set(live.map((h) => h.id)));
    } else if (s.kind === "expire") {
      const runningIds = [...before.values()].filter((r) => r.state === "running").map((r) => r.id);
      if (runningIds.length === 0) continue;
      const id = runningIds[s.pick % runningIds.length]!;
      await db.execute(sql`UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = ${id}`);
    } else {
      await reapExpiredJobs(db, [queue]);
    }

    const after = await snapshot(queue);
    for (const id of ids) {
      const row = after.get(id);
      // nothing lost: every job is either still in the table or was completed, exactly once
      expect(row !== undefined || completed.get(id) === 1).toBe(true);
      expect(completed.get(id) ?? 0).toBeLessThanOrEqual(row ? 0 : 1);
      if (row?.state === "running") {
        // held by exactly one current claim, whatever stale claims other workers still carry
        const holders = held.filter((list) => list.some((h) => h.id === id && h.lockToken === row.lockedBy));
        expect(holders).toHaveLength(1);
      } else if (row) {
        expect(row.lockedBy).toBeNull();
      }
    }
  }
  await db.delete(jobs).where(eq(jobs.queue, queue));
}

describe("claim protocol", () => {
  it("never lets two workers hold a job, and loses none, over random interleavings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30, size: "max" }), (steps) => run(steps)),
      { numRuns: 50 },
    );
  });
});
