import { Command, InvalidArgumentError, Option } from "commander";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import type { Database } from "./db/client.ts";
import { DataDirLockedError } from "./db/lockfile.ts";
import { openMigrated } from "./db/open.ts";
import { isAppError } from "./errors.ts";
import type { Role } from "./server.ts";

// the rest loads while the database opens: start-up time is the slower of the two, not the sum
const modules = () =>
  Promise.all([
    import("./server.ts"),
    import("./platform/bootstrap.ts"),
    import("./platform/api-key-admin.ts"),
    import("./platform/api-keys.ts"),
    import("./platform/users.ts"),
    import("./platform/workspaces.ts"),
    import("./demo/seed.ts"),
  ]).then(([server, bootstrap, keyAdmin, apiKeys, users, workspaces, demo]) => ({
    ...server,
    ...bootstrap,
    ...keyAdmin,
    ...apiKeys,
    ...users,
    ...workspaces,
    ...demo,
  }));

const started = performance.now();

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port is 0-65535");
  return n;
}

async function start(opts: { role: Role; demo: boolean; port?: number }): Promise<void> {
  const config = loadConfig();
  if (opts.port !== undefined) config.port = opts.port;
  if (opts.role !== "all" && !config.databaseUrl) {
    throw new ConfigError(
      "Splitting roles across processes needs PostgreSQL: set DATABASE_URL. " +
        "On the embedded database one `rapport start` runs the API, the worker and the scheduler together.",
    );
  }
  const [database, m] = await Promise.all([openMigrated(config), modules()]);
  const logger = m.createLogger(config);
  const boot = await m.bootstrap(database.db, config);
  if (boot.ownerCreated && boot.owner) {
    console.log(`\nWorkspace "${boot.workspace.name}" is ready; its owner is ${boot.owner.email}.`);
    if (boot.signInUrl) console.log(`Sign in once with this link (valid 24 hours):\n  ${boot.signInUrl}\n`);
    else console.log("Sign in with RAPPORT_ADMIN_EMAIL and RAPPORT_ADMIN_PASSWORD.\n");
  }
  if (opts.demo) await loadDemo(database, config, boot.owner?.email);
  const running = await m.startRoles({ config, database, logger }, opts.role);
  const ms = Math.round(performance.now() - started);
  const where = running.url ? ` on ${config.publicUrl}` : "";
  logger.info(
    { role: opts.role, database: database.kind, startupMs: ms },
    `Rapport ready${where} (${ms} ms)`,
  );
  if (running.url && !boot.ownerCreated) console.log(`Rapport ready on ${config.publicUrl} in ${ms} ms`);
  const stop = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await running.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

/** Loads the demo workspace and gives the owner a way in: a sign-in link of its own. */
async function loadDemo(database: Database, config: Config, ownerEmail: string | undefined): Promise<void> {
  const { seedDemo, createApiKey, createUser, createSignInLink, DEFAULT_ADMIN_EMAIL } = await modules();
  try {
    const t = performance.now();
    const r = await seedDemo(database.db, { publicUrl: config.publicUrl });
    const key = await createApiKey(database.db, {
      workspaceId: r.workspace.id,
      kind: "write",
      name: "Demo write key",
    });
    console.log(
      `Loaded the demo workspace "${r.workspace.name}": ${r.customers} customers, ${r.events} events, ` +
        `${r.conversations} conversations ` +
        `(${Math.round(performance.now() - t)} ms). Its write key: ${key.token}`,
    );
    const owner = await createUser(database.db, {
      workspaceId: r.workspace.id,
      email: ownerEmail ?? config.adminEmail ?? DEFAULT_ADMIN_EMAIL,
      role: "owner",
      status: "active",
      name: "Demo owner",
    });
    const link = await createSignInLink(database.db, config, {
      workspaceId: r.workspace.id,
      userId: owner.id,
    });
    console.log(`Open the demo workspace with this sign-in link (valid 24 hours):\n  ${link.url}\n`);
  } catch (err) {
    if (isAppError(err, "demo.already_exists")) console.log("The demo workspace is already loaded.");
    else throw err;
  }
}

const program = new Command()
  .name("rapport")
  .description("Rapport: omnichannel customer care and engagement")
  .showHelpAfterError();

program
  .command("start")
  .description("run Rapport (API, worker and scheduler in one process by default)")
  .addOption(new Option("--role <role>", "which part to run").choices(["all", "api"]).default("all"))
  .option("--demo", "load the demo workspace if it is not there yet", false)
  .option("--port <port>", "HTTP port (default PORT or 3000)", port)
  .action(async (opts: { role: "all" | "api"; demo: boolean; port?: number }) => start(opts));

program
  .command("worker")
  .description("run the job worker and scheduler only (PostgreSQL)")
  .action(async () => start({ role: "worker", demo: false }));

program
  .command("migrate")
  .description("apply pending database migrations")
  .action(async () => {
    const database = await openMigrated(loadConfig());
    await database.close();
    console.log(`Migrations applied (${database.kind}).`);
  });

program
  .command("demo")
  .description("load the demo workspace into the configured database")
  .action(async () => {
    const config = loadConfig();
    const database = await openMigrated(config);
    try {
      await loadDemo(database, config, undefined);
    } finally {
      await database.close();
    }
  });

const keys = program.command("keys").description("manage API keys");
keys
  .command("create")
  .description("create an API key and print it (it is shown only once)")
  .requiredOption("--workspace <slug>", "the workspace's slug")
  .addOption(
    new Option("--kind <kind>", "write (event ingestion) or secret (REST API)")
      .choices(["write", "secret"])
      .makeOptionMandatory(),
  )
  .option("--name <name>", "a name to tell keys apart")
  .action(async (opts: { workspace: string; kind: "write" | "secret"; name?: string }) => {
    const [database, { getWorkspaceBySlug, createAuditedApiKey }] = await Promise.all([
      openMigrated(loadConfig()),
      modules(),
    ]);
    try {
      const ws = await getWorkspaceBySlug(database.db, opts.workspace);
      if (!ws) throw new ConfigError(`No workspace with slug "${opts.workspace}".`);
      const { token } = await createAuditedApiKey(database.db, {
        workspaceId: ws.id,
        actor: { kind: "system" },
        kind: opts.kind,
        name: opts.name ?? (opts.kind === "write" ? "Write key (CLI)" : "Secret key (CLI)"),
      });
      console.log(token);
    } finally {
      await database.close();
    }
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DataDirLockedError || isAppError(err)) {
    console.error(`rapport: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
