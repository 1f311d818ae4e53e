// The job runtime's public surface; see docs/jobs-and-realtime.md.
export { countJobs, type JobRow, type JobState, listJobs, retryJob } from "./admin.ts";
export { type BackoffOptions, backoffDelayMs } from "./backoff.ts";
export { type EnqueueSpec, enqueue, enqueueMany, JobOptions, type TaskRef } from "./enqueue.ts";
export { createScheduler, type Schedule, type Scheduler, type SchedulerOptions } from "./scheduler.ts";
export { type AnyTask, defineTask, type JobContext, PermanentJobError, type Task } from "./task.ts";
export { createWorker, type Worker, type WorkerOptions } from "./worker.ts";
