import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { type Database, openDatabase, rows } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { countJobs } from "../src/jobs/admin.ts";
import { enqueue, enqueueMany } from "../src/jobs/enqueue.ts";
import { defineTask } from "../src/jobs/task.ts";
import { createWorker, type Worker } from "../src/jobs/worker.ts";
import { type Child, silentLogger, spawnScript, uniqueQueue, waitFor } from "./support/job-helpers.ts";

const WORKER_SCRIPT = "./job-worker-process.ts";
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(child: Child): Child {
  cleanups.push(async () => {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGKILL");
      await child.exited;
    }
  });
  return child;
}

function startWorker(worker: Worker): Promise<void> {
  cleanups.push(async () => {
    await worker.stop({ timeoutMs: 1_000 });
  });
  return worker.start();
}

/** The database the child shares with the test: the PostgreSQL test database, or a PGlite data folder. */
async function sharedDatabase(): Promise<{
  database: Database;
  childArgs: string[];
  reopen: () => Promise<Database>;
}> {
  const url = testDatabaseUrl();
  if (url) {
    const database = await testDatabase();
    return { database, childArgs: ["--url", url], reopen: async () => database };
  }
  const dir = mkdtempSync(join(tmpdir(), "rapport-jobs-crash-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const snapshot = new Blob([readFileSync(inject("pgliteSnapshot"))]);
  const database = await openDatabase({ kind: "pglite", dataDir: dir, snapshot });
  const reopen = async () => {
    const again = await openDatabase({ kind: "pglite", dataDir: dir });
    cleanups.push(() => again.close());
    return again;
  };
  return { database, childArgs: ["--pglite-dir", dir], reopen };
}

describe("crash recovery", () => {
  // three PGlite boots (test, child, test again) take a few seconds each on a busy machine
  it("runs a job again after its worker process is killed with SIGKILL, once the lease expires", {
    timeout: 60_000,
  }, async () => {
    const queue = uniqueQueue();
    const shared = await sharedDatabase();
    const id = await enqueue(shared.database.db, { task: "test.block", queue, payload: {} });
    // PGlite is one process: the test hands the data folder over to the child
    if (shared.database.kind === "pglite") await shared.database.close();

    const child = track(
      spawnScript(WORKER_SCRIPT, [
        ...shared.childArgs,
        "--queue",
        queue,
        "--mode",
        "block",
        "--lease-ms",
        "1000",
      ]),
    );
    const started = await child.waitForEvent((e) => e.event === "started");
    expect(started).toMatchObject({ id, attempt: 1 });
    child.process.kill("SIGKILL");
    await child.exited;

    // the killed process's lock on the PGlite folder is taken over: its pid is gone
    const database = await shared.reopen();
    const runs: Array<{ attempt: number; lastError: string | null }> = [];
    const task = defineTask({
      name: "test.block",
      schema: z.object({}),
      handler: async (_p, job) => {
        runs.push({ attempt: job.attempt, lastError: job.lastError });
      },
    });
    const worker = createWorker({
      database,
      tasks: [task],
      queues: { [queue]: 1 },
      leaseMs: 1_000,
      pollMs: 50,
      logger: silentLogger,
    });
    await startWorker(worker);
    await waitFor("the job to run again", () => runs.length > 0, 10_000);
    expect(runs).toEqual([
      { attempt: 2, lastError: expect.stringMatching(/^lease expired: worker child-\d+\//) },
    ]);
    await waitFor("the job to be deleted", async () => {
      const c = await countJobs(database.db, { queue });
      return c.queued + c.running + c.failed === 0;
    });
  });

  // PGlite is single-process by design (one process owns the data folder), so this needs PostgreSQL.
  it.skipIf(!testDatabaseUrl())(
    "two worker processes on PostgreSQL run each of 200 jobs exactly once, never at the same time",
    { timeout: 60_000 },
    async () => {
      const url = testDatabaseUrl()!;
      const database = await testDatabase();
      const queue = uniqueQueue();
      const table = `job_runs_${queue.replace(/[^a-z0-9]/gi, "").toLowerCase()}`;
      const probe = sql.identifier(table);
      await database.db.execute(
        sql`CREATE TABLE ${probe} (job_id bigint NOT NULL, worker text NOT NULL,
          started_at timestamptz NOT NULL, finished_at timestamptz)`,
      );
      cleanups.push(async () => {
        await database.db.execute(sql`DROP TABLE IF EXISTS ${probe}`);
      });
      const args = [
        "--url",
        url,
        "--queue",
        queue,
        "--mode",
        "probe",
        "--probe-table",
        table,
        "--concurrency",
        "4",
      ];
      const children = [track(spawnScript(WORKER_SCRIPT, args)), track(spawnScript(WORKER_SCRIPT, args))];
      await Promise.all(children.map((c) => c.waitForEvent((e) => e.event === "ready")));

      const ids = await enqueueMany(
        database.db,
        Array.from({ length: 200 }, (_, n) => ({ task: "test.probe", queue, payload: { n } })),
      );
      expect(ids).toHaveLength(200);
      await waitFor(
        "every job to finish",
        async () => {
          const c = await countJobs(database.db, { queue });
          return c.queued + c.running + c.failed === 0;
        },
        30_000,
      );
      for (const c of children) c.process.kill("SIGTERM");
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]);

      const [summary] = await rows<{ runs: number; jobs: number; unfinished: number; overlaps: number }>(
        database.db,
        sql`SELECT count(*)::int AS runs, count(DISTINCT job_id)::int AS jobs,
          count(*) FILTER (WHERE finished_at IS NULL)::int AS unfinished,
          (SELECT count(*)::int FROM ${probe} a JOIN ${probe} b ON a.job_id = b.job_id AND a.ctid < b.ctid
            WHERE a.started_at < coalesce(b.finished_at, 'infinity') AND b.started_at < coalesce(a.finished_at, 'infinity')
          ) AS overlaps
        FROM ${probe}`,
      );
      expect(summary).toEqual({ runs: 200, jobs: 200, unfinished: 0, overlaps: 0 });
      const perWorker = await rows<{ worker: string; n: number }>(
        database.db,
        sql`SELECT worker, count(*)::int AS n FROM ${probe} GROUP BY worker`,
      );
      // both processes took part, or the test would prove nothing about two of them
      expect(perWorker).toHaveLength(2);
      const ran = await rows<{ id: string }>(database.db, sql`SELECT job_id::text AS id FROM ${probe}`);
      expect(new Set(ran.map((r) => Number(r.id)))).toEqual(new Set(ids));
    },
  );
});
