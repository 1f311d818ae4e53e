import type { Config } from "../config.ts";
import { type Database, migrate, openDatabase } from "./client.ts";

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else PGlite in the data folder. */
export async function openConfiguredDatabase(config: Config, applicationName = "rapport"): Promise<Database> {
  if (config.databaseUrl) {
    return openDatabase({
      kind: "postgres",
      url: config.databaseUrl,
      poolSize: config.poolSize,
      applicationName,
    });
  }
  return openDatabase({ kind: "pglite", dataDir: config.dataDir });
}

/** Opens the configured database and applies pending migrations. */
export async function openMigrated(config: Config): Promise<Database> {
  const database = await openConfiguredDatabase(config);
  try {
    await migrate(database, config.databaseUrl);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
