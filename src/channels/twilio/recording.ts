import { z } from "zod";
import { loadConfig } from "../../config.ts";
import {
  type AttachmentStore,
  attachmentStoreFor,
  MAX_ATTACHMENT_BYTES,
} from "../../conversations/attachments.ts";
import { readLimited } from "../../conversations/fetched-file.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import { defineTask, PermanentJobError, type Task } from "../../jobs/index.ts";
import { changeCallEntry, readCallEntry } from "./call-entries.ts";
import { TwilioInboxConfig } from "./config.ts";
import { RECORDING_TASK, RecordingJob } from "./recording-job.ts";
import { VoiceInboxConfig } from "./voice-config.ts";

export const DEFAULT_RECORDING_TIMEOUT_MS = 60_000;

export type RecordingOptions = {
  /** Where recordings are kept; the installation's store (its data folder) when not given. */
  store?: AttachmentStore | undefined;
  timeoutMs?: number | undefined;
};

/** Why a recording cannot be fetched, ever: recorded on the call and the job stops. */
class Refused extends Error {}

async function noteError(db: Db, job: RecordingJob, reason: string): Promise<void> {
  await changeCallEntry(db, job.workspaceId, job.messageId, (call) =>
    call && !call.recording ? { call: { ...call, recordingError: reason } } : undefined,
  );
}

/**
 * Fetches a call's recording (MP3) with the inbox's account credentials and keeps it in the
 * attachment store, linked on the call entry (`call.recording` and the message's files). Only
 * the account's own recording resources on the inbox's API are fetched: the credentials go
 * nowhere else. Idempotent: a recording already linked is not fetched again.
 */
export async function fetchRecording(
  db: Db,
  job: RecordingJob,
  store: AttachmentStore,
  opts: { timeoutMs?: number | undefined; lastAttempt?: boolean | undefined } = {},
): Promise<"stored" | "already_stored"> {
  let settings: { accountSid: string; authToken: string; baseUrl: string };
  try {
    const inbox = await getInbox(db, job.workspaceId, job.inboxId);
    const account = TwilioInboxConfig.parse(inbox.config);
    // only the API's address matters here: other voice settings being wrong must not lose recordings
    settings = { ...account, baseUrl: VoiceInboxConfig.pick({ baseUrl: true }).parse(inbox.config).baseUrl };
  } catch (err) {
    // a database that is down is retried; a missing inbox or a broken setting never heals by itself
    if (isAppError(err) || err instanceof z.ZodError) {
      throw new PermanentJobError(`the voice inbox is gone or has no valid account: ${err.message}`);
    }
    throw err;
  }
  const known = await readCallEntry(db, job.workspaceId, job.messageId);
  if (!known) throw new PermanentJobError("the call entry is gone");
  if (known.recording?.sid === job.recordingSid) return "already_stored";
  try {
    const prefix = `${settings.baseUrl.replace(/\/$/, "")}/2010-04-01/Accounts/${settings.accountSid}/Recordings/`;
    if (!job.recordingUrl.startsWith(prefix) || /[?#]/.test(job.recordingUrl)) {
      throw new Refused(`${job.recordingUrl} is not a recording of this inbox's account; it was not fetched`);
    }
    const response = await fetch(`${job.recordingUrl.replace(/\.(mp3|wav)$/, "")}.mp3`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString("base64")}`,
      },
      redirect: "follow",
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_RECORDING_TIMEOUT_MS),
    });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new Refused(`Twilio refused the inbox's credentials for the recording (HTTP ${response.status})`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      // 404 while Twilio still writes the file, 429 and 5xx: another attempt may pass
      throw new Error(`the recording could not be fetched yet: HTTP ${response.status}`);
    }
    const data = await readLimited(
      response,
      MAX_ATTACHMENT_BYTES,
      (limit) => new Refused(`the recording is larger than ${limit} bytes`),
    );
    const type = response.headers.get("content-type")?.split(";")[0]?.trim() || "audio/mpeg";
    const saved = await store.put(job.workspaceId, {
      name: `recording-${job.recordingSid}.mp3`,
      contentType: type,
      data,
    });
    const call = await changeCallEntry(db, job.workspaceId, job.messageId, (current) => {
      // another run linked it first: its file stays unreferenced, the entry keeps one recording
      if (!current || current.recording?.sid === job.recordingSid) return undefined;
      const { recordingError: _e, ...rest } = current;
      return { call: { ...rest, recording: { sid: job.recordingSid, ...saved } }, attachments: [saved] };
    });
    return call ? "stored" : "already_stored";
  } catch (err) {
    if (err instanceof Refused) {
      await noteError(db, job, err.message);
      throw new PermanentJobError(err.message);
    }
    if (opts.lastAttempt) await noteError(db, job, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/**
 * The task that fetches recordings. The store is given here so a test's worker keeps files in
 * its own folder; the installation's data folder otherwise.
 */
export function createRecordingTask(options: RecordingOptions = {}): Task<RecordingJob> {
  let store = options.store;
  return defineTask({
    name: RECORDING_TASK,
    schema: RecordingJob,
    maxAttempts: 8,
    // Twilio may answer 404 for a few seconds after announcing a recording
    backoff: { baseMs: 10_000, maxMs: 30 * 60_000, jitter: "equal" },
    handler: async (payload, job) => {
      store ??= attachmentStoreFor(loadConfig().dataDir);
      await fetchRecording(job.db, payload, store, {
        timeoutMs: options.timeoutMs,
        lastAttempt: job.attempt >= job.maxAttempts,
      });
    },
  });
}
