import type { AnyTask } from "../../jobs/index.ts";

/** Voice background tasks (recordings fetched and stored). */
export const voiceTasks: AnyTask[] = [];
