import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { z } from "zod";
import { uuidv7 } from "../../src/ids.ts";

export { sleep };

/** A queue no other test uses: test files on PostgreSQL share the jobs table. */
export function uniqueQueue(prefix = "q"): string {
  return `${prefix}-${uuidv7()}`;
}

export const silentLogger = pino({ level: "silent" });

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A promise with its resolve function, for handlers that tell the test they started. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export type ChildEvent = Record<string, unknown> & { event: string };

export type Child = {
  process: ChildProcess;
  events: ChildEvent[];
  /** Resolves with the first event (past or future) that matches, or rejects on exit/timeout. */
  waitForEvent(match: (e: ChildEvent) => boolean, timeoutMs?: number): Promise<ChildEvent>;
  exited: Promise<number | null>;
  stderr(): string;
};

/**
 * Runs a TypeScript script of test/support in a child Node process (through tsx) and collects
 * the JSON lines it prints, so a test can kill it at a precise point.
 */
export function spawnScript(script: string, args: string[]): Child {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: ChildEvent[] = [];
  const waiters = new Set<() => void>();
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return;
    }
    const parsed = z.looseObject({ event: z.string() }).safeParse(json);
    if (parsed.success) events.push(parsed.data);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    process: child,
    events,
    exited,
    stderr: () => err,
    waitForEvent(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            cleanup();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`the child printed no matching event in ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
        void exited.then((code) => {
          cleanup();
          reject(new Error(`the child exited (${code}) before the event; stderr:\n${err}`));
        });
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
