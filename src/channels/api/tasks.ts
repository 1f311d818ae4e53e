import type { AnyTask } from "../../jobs/index.ts";

/** The API channel's background tasks (agent replies posted to the source's webhook). */
export const apiChannelTasks: AnyTask[] = [];
