import type { AnyTask } from "../../jobs/index.ts";
import { createRecordingTask } from "./recording.ts";

/** Voice background tasks (recordings fetched and stored). */
export const voiceTasks: AnyTask[] = [createRecordingTask()];
