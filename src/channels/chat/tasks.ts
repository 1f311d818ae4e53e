import type { AnyTask } from "../../jobs/index.ts";

/** The chat widget's background tasks (the email fallback for replies a visitor did not see). */
export const chatTasks: AnyTask[] = [];
