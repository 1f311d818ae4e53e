// modules that own customer rows register their merge hooks when loaded: every role loads these
import { apiChannelTasks } from "./channels/api/tasks.ts";
import { chatTasks } from "./channels/chat/tasks.ts";
import { metaTasks } from "./channels/meta/tasks.ts";
import { voiceTasks } from "./channels/twilio/tasks.ts";
import "./consent/consent-merge.ts";
import "./conversations/conversations.ts";
import { wakeSnoozedSchedule, wakeSnoozedTask } from "./conversations/snooze.ts";
import { embeddedMaintenanceSchedules, maintenanceTask } from "./db/maintenance.ts";
import "./delivery/providers/in-app.ts";
import { deliveryTasks } from "./delivery/tasks.ts";
import { webhookTasks } from "./delivery/webhooks/tasks.ts";
import type { AnyTask, Schedule } from "./jobs/index.ts";
import { ingestSweepSchedule, ingestSweepTask, ingestTask } from "./profiles/inbox.ts";

/**
 * Every background task of every module, and the cron schedules that start some of them.
 * The worker role runs these; modules add theirs here as they grow.
 */
export const allTasks: AnyTask[] = [
  ingestTask,
  ingestSweepTask,
  wakeSnoozedTask,
  ...deliveryTasks,
  ...webhookTasks,
  ...chatTasks,
  ...voiceTasks,
  ...metaTasks,
  ...apiChannelTasks,
  maintenanceTask,
];

export const allSchedules: Schedule[] = [ingestSweepSchedule, wakeSnoozedSchedule];

/** The schedules a worker runs on this database: the embedded one also keeps its own statistics. */
export function schedulesFor(kind: "pglite" | "postgres"): Schedule[] {
  return kind === "pglite" ? [...allSchedules, ...embeddedMaintenanceSchedules] : allSchedules;
}

/** The queues the worker serves and how many jobs of each may run at once. */
export const queueConcurrency: Record<string, number> = { default: 4, ingest: 2, delivery: 4, webhooks: 2 };
