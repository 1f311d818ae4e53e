import type { AnyTask } from "../../jobs/index.ts";
import { createPostTask } from "./posts.ts";

/** The Meta channel's background work: reading the posts customers comment on. */
export const metaTasks: AnyTask[] = [createPostTask()];
