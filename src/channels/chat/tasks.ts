import type { AnyTask } from "../../jobs/index.ts";
import { emailFallbackTask } from "./fallback.ts";

/** The chat widget's background tasks (the email fallback for replies a visitor did not see). */
export const chatTasks: AnyTask[] = [emailFallbackTask];
