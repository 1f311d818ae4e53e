import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";

/** What every entry point hands to the HTTP layer and the worker: built once at boot. */
export type AppContext = {
  config: Config;
  database: Database;
  logger: Logger;
};
