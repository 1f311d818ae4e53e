import { z } from "zod";
import type { EnqueueSpec } from "../../jobs/index.ts";

/** The task that fetches a call's recording into the attachment store. */
export const RECORDING_TASK = "voice.fetch_recording";

/** One recording of one call entry, as a callback announced it. */
export const RecordingJob = z.object({
  workspaceId: z.uuid(),
  inboxId: z.uuid(),
  messageId: z.uuid(),
  recordingSid: z.string().min(1).max(64),
  recordingUrl: z.url(),
});
export type RecordingJob = z.infer<typeof RecordingJob>;

/** The job for one recording; its key keeps one live job per recording however often it is announced. */
export function recordingJobSpec(job: RecordingJob): EnqueueSpec {
  return {
    task: RECORDING_TASK,
    payload: RecordingJob.parse(job),
    workspaceId: job.workspaceId,
    maxAttempts: 8,
    dedupeKey: `voice-recording:${job.workspaceId}:${job.messageId}:${job.recordingSid}`,
  };
}
