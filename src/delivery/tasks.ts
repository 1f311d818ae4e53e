import type { AnyTask } from "../jobs/index.ts";

/** The delivery engine's background tasks. */
export const deliveryTasks: AnyTask[] = [];
