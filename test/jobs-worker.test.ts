import { eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Database } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { countJobs, listJobs } from "../src/jobs/admin.ts";
import { enqueue, enqueueMany } from "../src/jobs/enqueue.ts";
import { jobs } from "../src/jobs/tables.ts";
import { type AnyTask, defineTask, PermanentJobError } from "../src/jobs/task.ts";
import { createWorker, type Worker, type WorkerOptions } from "../src/jobs/worker.ts";
import { deferred, silentLogger, sleep, uniqueQueue, waitFor } from "./support/job-helpers.ts";

let database: Database;
const workers: Worker[] = [];

beforeAll(async () => {
  database = await testDatabase();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 1_000 })));
});

async function startWorker(
  tasks: AnyTask[],
  queues: Record<string, number>,
  extra: Partial<WorkerOptions> = {},
): Promise<Worker> {
  const worker = createWorker({
    database,
    tasks,
    queues,
    leaseMs: 1_000,
    pollMs: 50,
    logger: silentLogger,
    ...extra,
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

async function jobRow(id: number) {
  const [row] = await database.db.select().from(jobs).where(eq(jobs.id, id));
  return row;
}

describe("worker: failures", () => {
  it("retries with backoff, recording the last error, then succeeds and deletes the job", async () => {
    const queue = uniqueQueue();
    const seen: Array<{ attempt: number; lastError: string | null; stored: unknown }> = [];
    const task = defineTask({
      name: "test.flaky",
      schema: z.object({}),
      backoff: { baseMs: 20, maxMs: 100, jitter: "full" },
      handler: async (_p, job) => {
        const row = await jobRow(job.id);
        seen.push({ attempt: job.attempt, lastError: job.lastError, stored: row?.lastError ?? null });
        if (job.attempt < 3) throw new Error(`boom ${job.attempt}`);
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    await startWorker([task], { [queue]: 1 });
    await waitFor("the job to be deleted", async () => (await jobRow(id!)) === undefined);
    expect(seen).toEqual([
      { attempt: 1, lastError: null, stored: null },
      { attempt: 2, lastError: "Error: boom 1", stored: "Error: boom 1" },
      { attempt: 3, lastError: "Error: boom 2", stored: "Error: boom 2" },
    ]);
  });

  it("schedules the retry after the backoff delay on the database clock", async () => {
    const queue = uniqueQueue();
    const task = defineTask({
      name: "test.fails-once",
      schema: z.object({}),
      backoff: { baseMs: 60_000, maxMs: 60_000, jitter: "none" },
      handler: async () => {
        throw new Error("later");
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    await startWorker([task], { [queue]: 1 });
    const row = await waitFor("the failed attempt", async () => {
      const r = await jobRow(id!);
      return r?.state === "queued" && r.attempts === 1 ? r : undefined;
    });
    expect(row.runAt.getTime() - row.updatedAt.getTime()).toBe(60_000);
    expect(row).toMatchObject({ lastError: "Error: later", lockedBy: null, lockedUntil: null });
  });

  it("keeps a job as failed once its attempts are used up", async () => {
    const queue = uniqueQueue();
    let calls = 0;
    const task = defineTask({
      name: "test.always-fails",
      schema: z.object({}),
      maxAttempts: 3,
      backoff: { baseMs: 10, maxMs: 30, jitter: "equal" },
      handler: async (_p, job) => {
        calls += 1;
        throw new Error(`boom ${job.attempt}`);
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    await startWorker([task], { [queue]: 1 });
    const row = await waitFor("the job to fail", async () => {
      const r = await jobRow(id!);
      return r?.state === "failed" ? r : undefined;
    });
    expect(row).toMatchObject({ attempts: 3, maxAttempts: 3, lastError: "Error: boom 3", lockedBy: null });
    await sleep(200);
    expect(calls).toBe(3);
  });

  it("fails a job with an invalid payload at once, with the schema's message", async () => {
    const queue = uniqueQueue();
    let calls = 0;
    const task = defineTask({
      name: "test.typed",
      schema: z.object({ customerId: z.uuid() }),
      handler: async () => {
        calls += 1;
      },
    });
    // enqueued by name, as an older deploy or another service might, so enqueue cannot check it
    const id = await enqueue(database.db, { task: "test.typed", queue, payload: { customerId: 42 } });
    await startWorker([task], { [queue]: 1 });
    const row = await waitFor("the job to fail", async () => {
      const r = await jobRow(id!);
      return r?.state === "failed" ? r : undefined;
    });
    expect(row.attempts).toBe(1);
    expect(row.lastError).toMatch(/^invalid payload for task test.typed: .*customerId/s);
    expect(calls).toBe(0);
  });

  it("fails a job at once when the handler throws PermanentJobError", async () => {
    const queue = uniqueQueue();
    const task = defineTask({
      name: "test.permanent",
      schema: z.object({}),
      handler: async () => {
        throw new PermanentJobError("the customer was deleted");
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    await startWorker([task], { [queue]: 1 });
    const row = await waitFor("the job to fail", async () => {
      const r = await jobRow(id!);
      return r?.state === "failed" ? r : undefined;
    });
    expect(row).toMatchObject({ attempts: 1, lastError: "PermanentJobError: the customer was deleted" });
  });
});

describe("worker: scheduling", () => {
  it("respects each queue's concurrency", async () => {
    const wide = uniqueQueue("wide");
    const narrow = uniqueQueue("narrow");
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    const task = defineTask({
      name: "test.slow",
      schema: z.object({}),
      handler: async (_p, job) => {
        const now = (active.get(job.queue) ?? 0) + 1;
        active.set(job.queue, now);
        peak.set(job.queue, Math.max(peak.get(job.queue) ?? 0, now));
        await sleep(30);
        active.set(job.queue, (active.get(job.queue) ?? 1) - 1);
      },
    });
    await enqueueMany(database.db, [
      ...Array.from({ length: 8 }, () => ({ task, queue: wide, payload: {} })),
      ...Array.from({ length: 8 }, () => ({ task, queue: narrow, payload: {} })),
    ]);
    await startWorker([task], { [wide]: 3, [narrow]: 1 });
    await waitFor("both queues to drain", async () => {
      const counts = [
        await countJobs(database.db, { queue: wide }),
        await countJobs(database.db, { queue: narrow }),
      ];
      return counts.every((c) => c.queued + c.running === 0);
    });
    expect(peak.get(wide)).toBe(3);
    expect(peak.get(narrow)).toBe(1);
  });

  it("runs higher priority (lower number) jobs first, and not before run_at", async () => {
    const queue = uniqueQueue();
    const order: string[] = [];
    const task = defineTask({
      name: "test.ordered",
      schema: z.object({ tag: z.string() }),
      handler: async ({ tag }) => {
        order.push(tag);
      },
    });
    await enqueueMany(database.db, [
      { task, queue, payload: { tag: "normal" } },
      { task, queue, payload: { tag: "urgent" }, priority: -1 },
      { task, queue, payload: { tag: "tomorrow" }, priority: -5, delayMs: 86_400_000 },
    ]);
    await startWorker([task], { [queue]: 1 });
    await waitFor("two jobs", () => order.length === 2);
    await sleep(150);
    expect(order).toEqual(["urgent", "normal"]);
  });

  it("keeps the lease of a job that runs longer than the lease (heartbeat)", async () => {
    const queue = uniqueQueue();
    let runs = 0;
    const task = defineTask({
      name: "test.long",
      schema: z.object({}),
      handler: async () => {
        runs += 1;
        await sleep(1_200);
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    // two workers with a 300 ms lease: without heartbeats the second would take the job over
    await startWorker([task], { [queue]: 1 }, { leaseMs: 300 });
    await startWorker([task], { [queue]: 1 }, { leaseMs: 300 });
    await waitFor("the job to finish", async () => (await jobRow(id!)) === undefined);
    expect(runs).toBe(1);
  });
});

describe("worker: graceful stop", () => {
  it("waits for a running job that finishes within the timeout", async () => {
    const queue = uniqueQueue();
    const started = deferred();
    const task = defineTask({
      name: "test.short",
      schema: z.object({}),
      handler: async () => {
        started.resolve();
        await sleep(100);
      },
    });
    const id = await enqueue(database.db, { task, queue, payload: {} });
    const worker = await startWorker([task], { [queue]: 1 });
    await started.promise;
    expect(await worker.stop({ timeoutMs: 5_000 })).toEqual({ released: 0 });
    expect(await jobRow(id!)).toBeUndefined();
  });

  it("hands an unfinished job back to the queue so another worker takes it at once", async () => {
    const queue = uniqueQueue();
    const started = deferred();
    let aborted = false;
    const blocking = defineTask({
      name: "test.handoff",
      schema: z.object({}),
      handler: async (_p, job) => {
        started.resolve();
        await new Promise((resolve) => job.signal.addEventListener("abort", resolve));
        aborted = true;
      },
    });
    const id = await enqueue(database.db, { task: blocking, queue, payload: {} });
    // long leases and polls: only the release and its NOTIFY can make the job run again soon
    const first = await startWorker([blocking], { [queue]: 1 }, { leaseMs: 60_000, pollMs: 60_000 });
    await started.promise;
    const second: Array<{ attempt: number; lastError: string | null }> = [];
    const finisher = defineTask({
      name: "test.handoff",
      schema: z.object({}),
      handler: async (_p, job) => {
        second.push({ attempt: job.attempt, lastError: job.lastError });
      },
    });
    await startWorker([finisher], { [queue]: 1 }, { leaseMs: 60_000, pollMs: 60_000 });
    expect(await first.stop({ timeoutMs: 100 })).toEqual({ released: 1 });
    expect(aborted).toBe(true);
    await waitFor(
      "the second worker to finish the job",
      async () => (await jobRow(id!)) === undefined,
      3_000,
    );
    // the interrupted attempt is not counted
    expect(second).toEqual([
      { attempt: 1, lastError: expect.stringMatching(/^released: worker .* stopped/) },
    ]);
    expect(await listJobs(database.db, { queue, limit: 10 })).toEqual([]);
  });
});
