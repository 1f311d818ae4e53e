import pino, { type Logger } from "pino";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { closeSmtpTransports } from "./delivery/providers/smtp.ts";
import type { App } from "./http/app.ts";
import { createScheduler, createWorker, type Scheduler, type Worker } from "./jobs/index.ts";
import { allTasks, queueConcurrency, schedulesFor } from "./tasks.ts";

export type Role = "all" | "api" | "worker";

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: "rapport" } });
}

export type Running = {
  ctx: AppContext;
  app: App | undefined;
  url: string | undefined;
  close(): Promise<void>;
};

/**
 * Starts the roles of one process over an open, migrated database: the HTTP server
 * ("api"), the job worker and cron scheduler ("worker"), or all of them ("all", the
 * embedded default where one process does everything).
 */
export async function startRoles(ctx: AppContext, role: Role): Promise<Running> {
  let app: App | undefined;
  let url: string | undefined;
  let worker: Worker | undefined;
  let scheduler: Scheduler | undefined;
  let smtp: { close(): Promise<void> } | undefined;
  if (role === "all" || role === "api") {
    const { buildApp } = await import("./http/app.ts");
    app = await buildApp(ctx);
    url = await app.listen({ port: ctx.config.port, host: ctx.config.host });
    if (ctx.config.smtp) smtp = await startInboundMail(ctx, ctx.config.smtp);
  }
  if (role === "all" || role === "worker") {
    worker = createWorker({
      database: ctx.database,
      tasks: allTasks,
      queues: queueConcurrency,
      logger: ctx.logger,
    });
    await worker.start();
    scheduler = createScheduler({
      database: ctx.database,
      schedules: schedulesFor(ctx.database.kind),
      logger: ctx.logger,
    });
    scheduler.start();
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await smtp?.close();
      await app?.close();
      await scheduler?.stop();
      await worker?.stop({ timeoutMs: 10_000 });
      // pooled SMTP connections would keep the process alive
      closeSmtpTransports();
      await ctx.database.close();
    })();
    return closing;
  };
  return { ctx, app, url, close };
}

/** The inbound mail listener (with the API role), when `RAPPORT_SMTP_PORT` asks for one. */
async function startInboundMail(
  ctx: AppContext,
  smtp: NonNullable<AppContext["config"]["smtp"]>,
): Promise<{ close(): Promise<void> }> {
  const [{ startSmtpListener }, { readFile }] = await Promise.all([
    import("./channels/email/smtp-listener.ts"),
    import("node:fs/promises"),
  ]);
  const tls =
    smtp.tlsKeyFile && smtp.tlsCertFile
      ? { key: await readFile(smtp.tlsKeyFile), cert: await readFile(smtp.tlsCertFile) }
      : undefined;
  const listener = await startSmtpListener({
    database: ctx.database,
    config: ctx.config,
    logger: ctx.logger,
    port: smtp.port,
    host: smtp.host,
    tls,
  });
  ctx.logger.info({ port: listener.port }, "inbound mail listening");
  return listener;
}
