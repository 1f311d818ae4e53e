import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import { backoffDelayMs } from "./backoff.ts";
import { errorText, JOBS_CHANNEL, notifyQueues } from "./sql.ts";
import {
  type ClaimedJob,
  claimJobs,
  completeJob,
  extendLeases,
  failJob,
  newLockToken,
  reapExpiredJobs,
  releaseJobs,
} from "./store.ts";
import { type AnyTask, type JobContext, PermanentJobError } from "./task.ts";

export type WorkerOptions = {
  database: Database;
  tasks: AnyTask[];
  /** The queues this worker serves, each with how many of its jobs may run at once. */
  queues: Record<string, number>;
  /** How long a claim holds a job without a heartbeat; a dead worker's jobs return after it. */
  leaseMs?: number;
  /** The fallback poll period, for due retries and delayed jobs (NOTIFY covers new jobs). */
  pollMs?: number;
  logger: Logger;
  workerId?: string;
};

export type Worker = {
  readonly id: string;
  start(): Promise<void>;
  /**
   * Stops claiming, waits up to `timeoutMs` for running jobs, then hands the unfinished ones
   * back to the queue (their handlers see `signal` aborted) so another worker takes them now.
   */
  stop(options?: { timeoutMs?: number }): Promise<{ released: number }>;
};

type Running = { job: ClaimedJob; controller: AbortController; done: Promise<void> };
type QueueState = { name: string; concurrency: number; active: number; claiming: boolean; again: boolean };

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`worker: ${name} must be an integer >= 1`);
  return value;
}

/**
 * A worker that runs jobs of the given tasks from the given queues. It wakes on NOTIFY from
 * `enqueue`, polls as a fallback, keeps the leases of its running jobs alive, and retries
 * failures with backoff. Jobs run at least once: handlers must be idempotent.
 */
export function createWorker(options: WorkerOptions): Worker {
  const { database, logger } = options;
  const { db } = database;
  const leaseMs = positiveInt("leaseMs", options.leaseMs ?? 30_000);
  const pollMs = positiveInt("pollMs", options.pollMs ?? 2_000);
  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const tasks = new Map(options.tasks.map((t) => [t.name, t]));
  const taskNames = [...tasks.keys()];
  const queues = new Map<string, QueueState>();
  for (const [name, concurrency] of Object.entries(options.queues)) {
    queues.set(name, {
      name,
      concurrency: positiveInt(`concurrency of queue ${name}`, concurrency),
      active: 0,
      claiming: false,
      again: false,
    });
  }
  const running = new Map<number, Running>();
  const claimsInFlight = new Set<Promise<void>>();
  let state: "idle" | "started" | "stopping" | "stopped" = "idle";
  let unlisten: (() => Promise<void>) | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<{ released: number }> | undefined;

  function wake(q: QueueState): void {
    if (state !== "started") return;
    if (q.claiming) {
      q.again = true;
      return;
    }
    const p = fill(q).finally(() => claimsInFlight.delete(p));
    claimsInFlight.add(p);
  }

  // one claim loop per queue at a time; a wake-up during a claim runs one more round
  async function fill(q: QueueState): Promise<void> {
    q.claiming = true;
    try {
      do {
        q.again = false;
        const free = q.concurrency - q.active;
        if (free <= 0) break;
        const claimed = await claimJobs(db, {
          queue: q.name,
          tasks: taskNames,
          limit: free,
          leaseMs,
          lockToken: newLockToken(id),
        });
        if (state !== "started") {
          const out = await releaseJobs(db, claimed, "released: the worker stopped before starting it");
          await notifyQueues(
            db,
            out.map((r) => r.queue),
          );
          break;
        }
        for (const job of claimed) launch(q, job);
        // when the queue is drained, only a wake-up that came during the claim earns another round;
        // when it is full, each finishing job claims again
      } while (q.again);
    } catch (err) {
      logger.error({ err, queue: q.name }, "claiming jobs failed; retrying at the next poll");
    } finally {
      q.claiming = false;
    }
  }

  function launch(q: QueueState, job: ClaimedJob): void {
    q.active += 1;
    const controller = new AbortController();
    const done = execute(job, controller.signal)
      .catch((err: unknown) => logger.error({ err, jobId: job.id }, "recording a job outcome failed"))
      .finally(() => {
        running.delete(job.id);
        q.active -= 1;
        wake(q);
      });
    running.set(job.id, { job, controller, done });
  }

  async function execute(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    const log = logger.child({ jobId: job.id, task: job.task, queue: job.queue, attempt: job.attempts });
    const task = tasks.get(job.task);
    const prepared = task
      ? task.prepare(job.payload)
      : { ok: false as const, error: `no handler for task ${job.task}` };
    if (!prepared.ok) {
      log.error({ error: prepared.error }, "job failed permanently");
      await failJob(db, job, { error: prepared.error, delayMs: 0, permanent: true });
      return;
    }
    const ctx: JobContext = {
      id: job.id,
      task: job.task,
      queue: job.queue,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      workspaceId: job.workspaceId,
      lastError: job.lastError,
      signal,
      db,
      logger: log,
    };
    try {
      await prepared.run(ctx);
    } catch (err) {
      const permanent = err instanceof PermanentJobError;
      const delayMs = backoffDelayMs(job.attempts, task?.backoff);
      const outcome = await failJob(db, job, { error: errorText(err), delayMs, permanent });
      if (outcome === null) log.warn({ err }, "job failed after its lease was lost; another claim owns it");
      else if (outcome === "failed") log.error({ err }, "job failed for good");
      else log.warn({ err, retryInMs: delayMs }, "job failed; it will be retried");
      return;
    }
    if (!(await completeJob(db, job))) {
      log.warn("job finished after its lease was lost; it may run again elsewhere");
    }
  }

  async function heartbeat(): Promise<void> {
    const held = [...running.values()].filter((r) => !r.controller.signal.aborted);
    if (held.length === 0) return;
    try {
      const still = await extendLeases(
        db,
        held.map((r) => r.job),
        leaseMs,
      );
      for (const r of held) {
        if (!still.has(r.job.id) && running.has(r.job.id)) {
          logger.warn({ jobId: r.job.id }, "lost the lease of a running job");
          r.controller.abort(new Error("the lease of this job was lost"));
        }
      }
    } catch (err) {
      logger.error({ err }, "extending job leases failed");
    }
  }

  async function poll(): Promise<void> {
    try {
      const reaped = await reapExpiredJobs(db, [...queues.keys()]);
      if (reaped > 0) logger.warn({ reaped }, "failed jobs whose last attempt lost its worker");
    } catch (err) {
      logger.error({ err }, "reaping expired jobs failed");
    }
    for (const q of queues.values()) wake(q);
  }

  function schedulePoll(): void {
    pollTimer = setTimeout(() => {
      void poll().finally(() => {
        if (state === "started") schedulePoll();
      });
    }, pollMs);
  }

  return {
    id,
    async start() {
      if (state !== "idle") throw new Error("a worker starts once");
      state = "started";
      try {
        unlisten = await database.listen(JOBS_CHANNEL, (queue) => {
          const q = queues.get(queue);
          if (q) wake(q);
        });
      } catch (err) {
        state = "stopped";
        throw err;
      }
      heartbeatTimer = setInterval(() => void heartbeat(), Math.max(50, Math.floor(leaseMs / 3)));
      schedulePoll();
      for (const q of queues.values()) wake(q);
    },

    stop({ timeoutMs = 30_000 } = {}) {
      if (state === "idle") state = "stopped";
      if (state === "stopped" && !stopped) return Promise.resolve({ released: 0 });
      stopped ??= shutdown(timeoutMs);
      return stopped;
    },
  };

  async function shutdown(timeoutMs: number): Promise<{ released: number }> {
    state = "stopping";
    clearTimeout(pollTimer);
    await unlisten?.().catch((err: unknown) => logger.warn({ err }, "unlisten failed"));
    await Promise.all(claimsInFlight);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    // leases keep being extended while we wait: the heartbeat still runs
    await Promise.race([Promise.all([...running.values()].map((r) => r.done)), timeout]);
    clearTimeout(timer);
    clearInterval(heartbeatTimer);
    const unfinished = [...running.values()];
    let released = 0;
    if (unfinished.length > 0) {
      // release before aborting: a handler that returns on abort must not complete the job
      const out = await releaseJobs(
        db,
        unfinished.map((r) => r.job),
        `released: worker ${id} stopped before the job finished`,
      );
      for (const r of unfinished) r.controller.abort(new Error("the worker is stopping"));
      released = out.length;
      await notifyQueues(
        db,
        out.map((r) => r.queue),
      );
      logger.warn({ released }, "handed unfinished jobs back to their queues");
    }
    state = "stopped";
    return { released };
  }
}
