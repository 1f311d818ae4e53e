import type { Logger } from "pino";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import type { BackoffOptions } from "./backoff.ts";

/** What a handler knows about the job it runs, besides the payload. */
export type JobContext = {
  id: number;
  task: string;
  queue: string;
  /** 1 on the first run, 2 on the first retry… */
  attempt: number;
  maxAttempts: number;
  workspaceId: string | null;
  /** The error of the previous attempt, if any. */
  lastError: string | null;
  /**
   * Aborted when this worker no longer holds the job: its lease was lost, or a graceful stop
   * ran out of time and handed the job back. Long handlers should check it between steps.
   */
  signal: AbortSignal;
  /** The query layer; handlers open their own short transactions with it. */
  db: Db;
  logger: Logger;
};

/** What a payload check yields: a ready-to-run handler call, or why the payload is unusable. */
export type PreparedRun =
  | { ok: true; run: (job: JobContext) => Promise<void> }
  | { ok: false; error: string };

/**
 * A task with its payload type erased, as a worker holds it. The payload is parsed by the
 * task's own schema inside `prepare`, so the worker never needs to know its type.
 */
export type AnyTask = {
  name: string;
  /** The queue a job of this task goes to when `enqueue` is not told another. */
  queue: string;
  maxAttempts: number | undefined;
  backoff: Partial<BackoffOptions> | undefined;
  prepare(payload: unknown): PreparedRun;
};

/** A declared task; the payload type lets `enqueue` check payloads at compile time. */
export type Task<P> = AnyTask & {
  /** Validates the stored payload before the handler sees it (payloads outlive deploys). */
  schema: z.ZodType<P>;
  handler: (payload: P, job: JobContext) => Promise<void>;
};

export type TaskDefinition<P> = {
  name: string;
  queue?: string;
  schema: z.ZodType<P>;
  handler: (payload: P, job: JobContext) => Promise<void>;
  maxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
};

const TASK_NAME = /^[a-z][a-z0-9_.:-]{0,99}$/i;

/**
 * Declares a task: its name, its payload schema and its handler. Handlers must be idempotent:
 * a job runs at least once, and again after a crash or a lost lease.
 */
export function defineTask<P>(def: TaskDefinition<P>): Task<P> {
  if (!TASK_NAME.test(def.name)) throw new Error(`invalid task name "${def.name}"`);
  if (def.maxAttempts !== undefined && !(Number.isInteger(def.maxAttempts) && def.maxAttempts >= 1)) {
    throw new Error(`task ${def.name}: maxAttempts must be an integer >= 1`);
  }
  const { schema, handler } = def;
  return {
    name: def.name,
    queue: def.queue ?? "default",
    schema,
    handler,
    maxAttempts: def.maxAttempts,
    backoff: def.backoff,
    prepare(payload) {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        return { ok: false, error: `invalid payload for task ${def.name}: ${z.prettifyError(parsed.error)}` };
      }
      return { ok: true, run: (job) => handler(parsed.data, job) };
    },
  };
}

/**
 * Thrown by a handler when retrying cannot help (the customer no longer exists, the provider
 * rejected the address): the job fails at once instead of using up its attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}
