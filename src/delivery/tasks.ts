import type { AnyTask } from "../jobs/index.ts";
import { deliverTask } from "./engine.ts";

/** The delivery engine's background tasks. */
export const deliveryTasks: AnyTask[] = [deliverTask];
