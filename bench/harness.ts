import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Database, migrate, openDatabase } from "../src/db/client.ts";

export type Backend = "pglite" | "postgres";

export type BenchArgs = { size: number | undefined; backends: Backend[]; databaseUrl: string };

/** `<name> [--size N] [--backend pglite|postgres|both]`, and BENCH_DATABASE_URL for PostgreSQL. */
export function parseArgs(argv: string[]): { name: string | undefined; args: BenchArgs } {
  let size: number | undefined;
  let backend = "both";
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--size") size = Number(argv[++i]);
    else if (a === "--backend") backend = argv[++i] ?? "both";
    else if (a && !a.startsWith("-")) name = a;
  }
  if (size !== undefined && (!Number.isInteger(size) || size < 1))
    throw new Error("--size takes a positive integer");
  if (!["pglite", "postgres", "both"].includes(backend))
    throw new Error("--backend is pglite, postgres or both");
  const backends: Backend[] =
    backend === "both" ? ["pglite", "postgres"] : [backend === "pglite" ? "pglite" : "postgres"];
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/rapport_bench";
  return { name, args: { size, backends, databaseUrl } };
}

/** A fresh, migrated database of the given kind; PGlite lives in a temporary data folder, as embedded mode does. */
export async function freshDatabase(
  backend: Backend,
  url: string,
): Promise<{ database: Database; cleanup(): Promise<void> }> {
  if (backend === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "rapport-bench-"));
    const database = await openDatabase({ kind: "pglite", dataDir: dir });
    await migrate(database);
    return {
      database,
      cleanup: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  const database = await openDatabase({
    kind: "postgres",
    url,
    poolSize: 16,
    applicationName: "rapport-bench",
  });
  await migrate(database, url);
  return { database, cleanup: () => database.close() };
}

/** Whether a PostgreSQL server answers at `url`'s host (the postgres database). */
export async function postgresReachable(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const c = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export type Figure = { figure: string; value: number; unit: string; reference: number; refUnit: string };

/** Prints the closing lines: `<figure>: <value> <unit> | reference <value> <unit> | ratio <r>`. */
export function printSummary(figures: Figure[]): void {
  console.log("");
  for (const f of figures) {
    const ratio = f.reference > 0 ? f.value / f.reference : 0;
    console.log(
      `${f.figure}: ${Math.round(f.value)} ${f.unit} | reference ${Math.round(f.reference)} ${f.refUnit} | ratio ${ratio.toFixed(2)}`,
    );
  }
}

/** Runs `worker` on `concurrency` loops that pull items off one shared list until it is empty. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await worker(item);
      }
    }),
  );
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * CPU time (µs) spent so far by the PostgreSQL server's processes on this machine, read from
 * /proc; undefined where that cannot be read (another OS, or a server elsewhere). Processes
 * that exit in between take their time with them, so use it around phases whose connections
 * stay open.
 */
export function databaseCpuMicros(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux
  let ticks = 0;
  let seen = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // "pid (comm) state ppid …": the command may hold spaces, so split after its closing paren
      const close = stat.lastIndexOf(")");
      if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
      const fields = stat.slice(close + 2).split(" ");
      // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "(comm) "
      ticks += Number(fields[11]) + Number(fields[12]);
      seen++;
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return seen > 0 ? ticks * TICK_MICROS : undefined;
}
