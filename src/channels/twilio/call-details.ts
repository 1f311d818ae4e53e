import { z } from "zod";

const seconds = z.coerce.number().int().min(0).max(10_000_000).optional();

export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;

/**
 * The fields of Twilio Voice callbacks that Rapport reads: call status callbacks, the
 * `<Enqueue>` action (QueueResult, QueueTime) and recording status callbacks (which carry
 * neither CallStatus nor From/To: they only complete a call already known).
 */
export const TwilioCallCallback = z.object({
  CallSid: z.string().trim().min(1).max(64),
  AccountSid: z.string().min(1),
  CallStatus: z.enum(CALL_STATUSES).optional(),
  Direction: z.string().trim().min(1).max(40).default("inbound"),
  From: z.string().trim().min(1).max(100).optional(),
  To: z.string().trim().min(1).max(100).optional(),
  CallDuration: seconds,
  /** Seconds the caller spent in an `<Enqueue>` queue (its action, or a `<Queue>` url request). */
  QueueTime: seconds,
  /** How the caller left the queue: bridged, hangup, leave, queue-full, redirected, error… */
  QueueResult: z.string().trim().min(1).max(40).optional(),
  DialCallStatus: z.string().trim().min(1).max(40).optional(),
  RecordingUrl: z.url().optional(),
  RecordingSid: z.string().max(64).optional(),
  RecordingDuration: seconds,
  TranscriptionText: z.string().max(100_000).optional(),
  SequenceNumber: z.coerce.number().int().min(0).optional(),
});
export type TwilioCallCallback = z.infer<typeof TwilioCallCallback>;

// a status never goes back: a late "ringing" after "completed" changes nothing
const STATUS_RANK: Record<(typeof CALL_STATUSES)[number], number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  "in-progress": 3,
  completed: 4,
  busy: 4,
  failed: 4,
  "no-answer": 4,
  canceled: 4,
};
const TERMINAL = new Set(["completed", "busy", "failed", "no-answer", "canceled"]);

/** The call's recording, once fetched into the attachment store. */
export const StoredRecording = z.object({
  sid: z.string(),
  key: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number(),
});

/** The call as its message shows it (`metadata.call` of the `call` message). */
export const CallDetails = z.object({
  callSid: z.string(),
  direction: z.string(),
  status: z.enum(CALL_STATUSES),
  from: z.string(),
  to: z.string(),
  durationSeconds: z.number().optional(),
  queueTimeSeconds: z.number().optional(),
  queueResult: z.string().optional(),
  /** When the customer began waiting: the first news of the call, or when they asked for it. */
  queuedAt: z.string().optional(),
  /** When the customer reached someone (after any queue); absent for a call never answered. */
  answeredAt: z.string().optional(),
  /** How long the customer waited: Twilio's QueueTime, plus the time to pick up a callback they asked for. */
  waitSeconds: z.number().optional(),
  /** Who started an outbound call: an agent's click, or the customer's callback request. */
  requestedBy: z.enum(["agent", "customer"]).optional(),
  agentId: z.string().optional(),
  /** Why the call could not be placed. */
  error: z.string().optional(),
  recordingUrl: z.string().optional(),
  recordingSid: z.string().optional(),
  recordingDurationSeconds: z.number().optional(),
  recording: StoredRecording.optional(),
  recordingError: z.string().optional(),
  transcription: z.string().optional(),
  statuses: z.array(z.object({ status: z.string(), at: z.string() })),
});
export type CallDetails = z.infer<typeof CallDetails>;

const ms = (iso: string) => new Date(iso).getTime();

/**
 * The wait fields reports read, derived from what is known: the customer picked up (or Twilio
 * answered an inbound call) at the first `in-progress`; a reported QueueTime adds the time in
 * the queue; the call counts as answered unless it left the queue another way than `bridged`.
 */
export function withWait(call: CallDetails): CallDetails {
  const { answeredAt: _a, waitSeconds: _w, ...rest } = call;
  if (!call.queuedAt) return rest;
  const queued = ms(call.queuedAt);
  const pickups = call.statuses.filter((s) => s.status === "in-progress").map((s) => ms(s.at));
  const pickedUp = pickups.length > 0 ? Math.max(queued, Math.min(...pickups)) : undefined;
  const queue = call.queueTimeSeconds;
  if (queue !== undefined) {
    const base = pickedUp ?? queued;
    const bridged = call.queueResult === undefined || call.queueResult === "bridged";
    return {
      ...rest,
      ...(bridged ? { answeredAt: new Date(base + queue * 1000).toISOString() } : {}),
      waitSeconds: Math.round((base - queued) / 1000) + queue,
    };
  }
  if (pickedUp === undefined) return rest;
  return {
    ...rest,
    answeredAt: new Date(pickedUp).toISOString(),
    waitSeconds: Math.round((pickedUp - queued) / 1000),
  };
}

/** Folds one callback into what is known of the call; fields a callback lacks keep their value. */
export function mergeCall(known: CallDetails | undefined, cb: TwilioCallCallback, at: Date): CallDetails {
  const status = cb.CallStatus;
  const newer = status !== undefined && (!known || STATUS_RANK[status] >= STATUS_RANK[known.status]);
  const out: CallDetails = {
    ...known,
    callSid: cb.CallSid,
    direction: known?.direction ?? cb.Direction,
    status: newer ? status : (known?.status ?? status ?? "queued"),
    from: known?.from || cb.From || "",
    to: known?.to || cb.To || "",
    statuses: status
      ? [...(known?.statuses ?? []), { status, at: at.toISOString() }]
      : (known?.statuses ?? []),
  };
  const optional = {
    durationSeconds: cb.CallDuration,
    queueTimeSeconds: cb.QueueTime,
    queueResult: cb.QueueResult,
    recordingUrl: cb.RecordingUrl,
    recordingSid: cb.RecordingSid,
    recordingDurationSeconds: cb.RecordingDuration,
    transcription: cb.TranscriptionText,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(out, { [k]: v });
  // when the call began: the first news of it, or its end less its length when that comes first
  const starts = [known?.queuedAt ? ms(known.queuedAt) : at.getTime()];
  if (status && TERMINAL.has(status) && cb.CallDuration !== undefined) {
    starts.push(at.getTime() - cb.CallDuration * 1000);
  }
  out.queuedAt = new Date(Math.min(...starts)).toISOString();
  return withWait(out);
}

/** The line agents read for a call: who called, how it ended, how long it lasted. */
export function callSummary(call: CallDetails): string {
  const who =
    call.direction === "inbound"
      ? "Call from the customer"
      : call.requestedBy === "customer"
        ? "Callback the customer asked for"
        : "Call to the customer";
  const minutes = call.durationSeconds !== undefined ? Math.floor(call.durationSeconds / 60) : undefined;
  const length =
    call.durationSeconds !== undefined
      ? `, ${minutes}m ${String(call.durationSeconds % 60).padStart(2, "0")}s`
      : "";
  const error = call.error ? ` (${call.error})` : "";
  const transcript = call.transcription ? `\n${call.transcription}` : "";
  return `${who}: ${call.status.replace("-", " ")}${length}${error}${transcript}`;
}

/** Only the recording part of a callback (it completes a call, it is not a status of it). */
export function recordingPart(cb: TwilioCallCallback): TwilioCallCallback {
  return {
    CallSid: cb.CallSid,
    AccountSid: cb.AccountSid,
    Direction: cb.Direction,
    ...(cb.RecordingUrl !== undefined ? { RecordingUrl: cb.RecordingUrl } : {}),
    ...(cb.RecordingSid !== undefined ? { RecordingSid: cb.RecordingSid } : {}),
    ...(cb.RecordingDuration !== undefined ? { RecordingDuration: cb.RecordingDuration } : {}),
  };
}

/** The callback without its recording (stored first, so the recording's fetch job is enqueued with it). */
export function withoutRecording(cb: TwilioCallCallback): TwilioCallCallback {
  const { RecordingUrl: _u, RecordingSid: _s, RecordingDuration: _d, ...rest } = cb;
  return rest;
}
