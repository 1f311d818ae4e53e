import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite, PgliteDatabase, PgliteTransaction } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { lockDataDir } from "./lockfile.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** The query layer, the same type on PGlite and on PostgreSQL; a transaction is one too. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type Listener = (payload: string) => void;

export type Database = {
  kind: "pglite" | "postgres";
  db: Db;
  /** LISTEN on a channel (lower-case name); resolves to a function that stops listening. */
  listen(channel: string, onNotify: Listener): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** The embedded instance, for the few things only PGlite has (snapshots). */
  pglite?: PGlite;
};

/**
 * True for the embedded database (PGlite) and its transactions: one session, so one
 * transaction at a time, and locks between transactions guard nothing there.
 */
export function isEmbedded(db: Db): boolean {
  return db instanceof PgliteDatabase || db instanceof PgliteTransaction;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/** Runs raw SQL and returns its rows (both drivers answer with `{ rows }`). */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  return resultRows<T>(await db.execute(query));
}

/** The rows of a driver's answer to a raw query. */
function resultRows<T>(result: unknown): T[] {
  if (typeof result !== "object" || result === null || !("rows" in result) || !Array.isArray(result.rows)) {
    throw new Error("the database driver answered without rows");
  }
  // rows of a raw query are typed by the SQL written next to the call
  return result.rows as T[];
}

/** What `preparedRows` reaches inside drizzle: the SQL builder and the driver session. */
type DrizzleInternals = {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session: {
    prepareQuery(
      query: { sql: string; params: unknown[] },
      fields: undefined,
      name: string,
      arrayMode: false,
    ): { execute(): Promise<unknown> };
  };
};

/**
 * `rows`, as a statement each PostgreSQL connection parses and plans once, for the statements
 * every ingestion request or worker poll runs, where planning is a real share of the cost.
 * The statement is named by a digest of its SQL text, so one text is one statement whatever
 * calls it. (Behind PgBouncer in transaction mode, set its `max_prepared_statements`.) PGlite
 * runs it as `rows` does.
 */
export async function preparedRows<T>(db: Db, query: SQL): Promise<T[]> {
  if (isEmbedded(db)) return rows<T>(db, query);
  const internals = db as unknown as DrizzleInternals;
  const built = internals.dialect.sqlToQuery(query);
  let name = statementNames.get(built.sql);
  if (name === undefined) {
    name = `rapport_${createHash("sha256").update(built.sql).digest("hex").slice(0, 32)}`;
    if (statementNames.size >= 1000) statementNames.clear();
    statementNames.set(built.sql, name);
  }
  return resultRows<T>(await internals.session.prepareQuery(built, undefined, name, false).execute());
}

const statementNames = new Map<string, string>();

export type OpenOptions =
  | { kind: "pglite"; dataDir: string | undefined; lock?: boolean; snapshot?: Blob }
  | { kind: "postgres"; url: string; poolSize?: number; applicationName?: string };

/** Opens the database: embedded PGlite in a data folder (or in memory), or a PostgreSQL pool. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.kind === "postgres") return openPostgres(opts.url, opts.poolSize ?? 10, opts.applicationName);
  const unlock = opts.dataDir && opts.lock !== false ? lockDataDir(opts.dataDir) : () => {};
  try {
    const client = await PGlite.create({
      ...(opts.dataDir ? { dataDir: join(opts.dataDir, "pgdata") } : {}),
      ...(opts.snapshot ? { loadDataDir: opts.snapshot } : {}),
    });
    const db: Db = drizzlePglite({ client, schema });
    return {
      kind: "pglite",
      db,
      pglite: client,
      listen: async (channel, onNotify) => {
        const stop = await client.listen(channel, onNotify);
        return stop;
      },
      close: async () => {
        await client.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}

async function openPostgres(url: string, poolSize: number, applicationName = "rapport"): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName });
  // an idle client that errors (server restart) must not crash the process
  pool.on("error", () => {});
  const db: Db = drizzlePg({ client: pool, schema });
  let listenClient: pg.Client | undefined;
  const handlers = new Map<string, Set<Listener>>();
  const ensureListenClient = async () => {
    if (listenClient) return listenClient;
    const c = new pg.Client({ connectionString: url, application_name: `${applicationName}-listen` });
    c.on("error", () => {});
    c.on("notification", (msg) => {
      for (const h of handlers.get(msg.channel) ?? []) h(msg.payload ?? "");
    });
    await c.connect();
    listenClient = c;
    return c;
  };
  return {
    kind: "postgres",
    db,
    listen: async (channel, onNotify) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      const c = await ensureListenClient();
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await c.query(`LISTEN ${channel}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          await c.query(`UNLISTEN ${channel}`).catch(() => {});
        }
      };
    },
    close: async () => {
      await listenClient?.end().catch(() => {});
      await pool.end();
    },
  };
}

/**
 * Applies pending migrations. On PostgreSQL an advisory lock lets several processes start
 * at once; on PGlite the data-folder lock already makes us the only one.
 */
export async function migrate(database: Database, url?: string): Promise<void> {
  if (database.kind === "pglite") {
    await migratePglite(database.db as Parameters<typeof migratePglite>[0], {
      migrationsFolder: MIGRATIONS_DIR,
    });
    return;
  }
  if (!url) throw new Error("migrate on PostgreSQL needs the connection URL");
  const client = new pg.Client({ connectionString: url, application_name: "rapport-migrate" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock(7251437)");
    await migratePg(drizzlePg({ client }), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query("SELECT pg_advisory_unlock(7251437)").catch(() => {});
    await client.end();
  }
}
