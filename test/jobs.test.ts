import { and, eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Database } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { countJobs, listJobs, retryJob } from "../src/jobs/admin.ts";
import { enqueue, enqueueMany } from "../src/jobs/enqueue.ts";
import { jobs } from "../src/jobs/tables.ts";
import { defineTask } from "../src/jobs/task.ts";
import { createWorker, type Worker } from "../src/jobs/worker.ts";
import { silentLogger, uniqueQueue, waitFor } from "./support/job-helpers.ts";

let database: Database;
const workers: Worker[] = [];

beforeAll(async () => {
  database = await testDatabase();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 1_000 })));
});

function startWorker(queue: string, tasks: Parameters<typeof createWorker>[0]["tasks"]): Promise<Worker> {
  const worker = createWorker({
    database,
    tasks,
    queues: { [queue]: 2 },
    leaseMs: 1_000,
    pollMs: 50,
    logger: silentLogger,
  });
  workers.push(worker);
  return worker.start().then(() => worker);
}

function recorder() {
  const seen: string[] = [];
  const task = defineTask({
    name: "test.record",
    schema: z.object({ tag: z.string() }),
    handler: async ({ tag }) => {
      seen.push(tag);
    },
  });
  return { seen, task };
}

describe("enqueue", () => {
  it("never runs a job enqueued in a transaction that rolled back", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    const { seen, task } = recorder();
    await expect(
      db.transaction(async (tx) => {
        await enqueue(tx, { task, queue, payload: { tag: "rolled back" } });
        tx.rollback();
      }),
    ).rejects.toThrow();
    await db.transaction(async (tx) => {
      await enqueue(tx, { task, queue, payload: { tag: "committed" } });
    });
    await startWorker(queue, [task]);
    // the worker drains the queue in order, so once the later job ran, the earlier one had its chance
    await waitFor("the committed job", () => seen.includes("committed"));
    expect(seen).toEqual(["committed"]);
    expect(await countJobs(db, { queue })).toEqual({ queued: 0, running: 0, failed: 0 });
  });

  it("enqueues a dedupe key once under 20 concurrent transactions, and again once the job is done", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    const dedupeKey = `dedupe-${queue}`;
    const { seen, task } = recorder();
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction((tx) => enqueue(tx, { task, queue, dedupeKey, payload: { tag: `try ${i}` } })),
      ),
    );
    expect(ids.filter((id) => id !== null)).toHaveLength(1);
    expect(await db.select().from(jobs).where(eq(jobs.dedupeKey, dedupeKey))).toHaveLength(1);

    await startWorker(queue, [task]);
    await waitFor("the deduplicated job", () => seen.length === 1);
    await waitFor("the job row to go", async () => (await listJobs(db, { queue, limit: 1 })).length === 0);
    expect(await enqueue(db, { task, queue, dedupeKey, payload: { tag: "later" } })).toEqual(
      expect.any(Number),
    );
    await waitFor("the second job", () => seen.length === 2);
    expect(seen[1]).toBe("later");
  });

  it("enqueues many in one call, skipping taken dedupe keys, with options applied", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    const workspaceId = "0190a7c4-1b2c-7d3e-8f40-123456789abc";
    const ids = await enqueueMany(db, [
      { task: "test.record", queue, payload: { tag: "a" }, dedupeKey: `${queue}-a`, priority: 5 },
      { task: "test.record", queue, payload: { tag: "b" }, dedupeKey: `${queue}-a` },
      { task: "test.record", queue, payload: { tag: "c" }, delayMs: 60_000, maxAttempts: 2, workspaceId },
    ]);
    expect(ids).toHaveLength(2);
    const rows = await listJobs(db, { queue, limit: 10 });
    expect(rows.map((r) => r.payload)).toEqual([{ tag: "a" }, { tag: "c" }]);
    const [a, c] = rows;
    expect(a).toMatchObject({ priority: 5, state: "queued", attempts: 0, maxAttempts: 10 });
    expect(c).toMatchObject({ maxAttempts: 2, workspaceId });
    // delays are measured on the database clock, from the enqueue's own now()
    expect(c!.runAt.getTime() - c!.createdAt.getTime()).toBe(60_000);
  });

  it("rejects a bad spec and a payload that the task's schema refuses, before writing", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    const task = defineTask({
      name: "test.positive",
      schema: z.object({ n: z.number().int().positive() }),
      handler: async () => {},
    });
    const refused = enqueue(db, { task, queue, payload: { n: -1 } });
    await expect(refused).rejects.toSatisfy((err) => isAppError(err, "jobs.invalid_payload"));
    await expect(refused).rejects.toThrow(/Invalid payload for task test.positive/);
    const both = enqueue(db, { task, queue, payload: { n: 1 }, delayMs: 5, runAt: new Date() });
    await expect(both).rejects.toSatisfy((err) => isAppError(err, "jobs.invalid_spec"));
    await expect(enqueue(db, { task: "x", queue, payload: undefined })).rejects.toThrow(/payload is missing/);
    expect(await listJobs(db, { queue, limit: 10 })).toEqual([]);
  });

  it("uses the task's queue and maxAttempts when the spec does not say", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    const task = defineTask({
      name: "test.routed",
      queue,
      maxAttempts: 4,
      schema: z.object({}),
      handler: async () => {},
    });
    const id = await enqueue(db, { task, payload: {} });
    const [row] = await db.select().from(jobs).where(eq(jobs.id, id!));
    expect(row).toMatchObject({ queue, task: "test.routed", maxAttempts: 4 });
  });
});

describe("admin", () => {
  it("counts by state, lists failed jobs and retries one with fresh attempts", async () => {
    const { db } = database;
    const queue = uniqueQueue();
    let healthy = false;
    const runs: number[] = [];
    const task = defineTask({
      name: "test.flaky",
      schema: z.object({}),
      maxAttempts: 1,
      handler: async (_p, job) => {
        runs.push(job.attempt);
        if (!healthy) throw new Error("provider down");
      },
    });
    const id = await enqueue(db, { task, queue, payload: {}, dedupeKey: `${queue}-k` });
    await enqueue(db, { task: "test.unknown", queue, payload: {}, delayMs: 60_000 });
    await startWorker(queue, [task]);
    await waitFor("the job to fail", async () => (await countJobs(db, { queue })).failed === 1);
    expect(await countJobs(db, { queue })).toEqual({ queued: 1, running: 0, failed: 1 });
    const [failed] = await listJobs(db, { queue, state: "failed", limit: 10 });
    expect(failed).toMatchObject({ id, attempts: 1, lastError: "Error: provider down", lockedBy: null });

    // a newer job with the same dedupe key blocks the retry: both would do the same work
    const newer = await enqueue(db, { task, queue, payload: {}, dedupeKey: `${queue}-k`, delayMs: 60_000 });
    await expect(retryJob(db, id!)).rejects.toSatisfy((err) => isAppError(err, "jobs.dedupe_conflict"));
    await db.delete(jobs).where(and(eq(jobs.id, newer!), eq(jobs.queue, queue)));

    healthy = true;
    expect(await retryJob(db, id!)).toBe(true);
    await waitFor("the retried job to finish", async () => {
      return (await db.select().from(jobs).where(eq(jobs.id, id!))).length === 0;
    });
    expect(runs).toEqual([1, 1]);
    expect(await retryJob(db, id!)).toBe(false);
  });
});
