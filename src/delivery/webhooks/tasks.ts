import type { AnyTask } from "../../jobs/index.ts";

/** Outbound webhook tasks. */
export const webhookTasks: AnyTask[] = [];
