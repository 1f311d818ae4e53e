import { z } from "zod";
import { receiveInbound, updateMessage } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { normalizePhone } from "../../profiles/identifiers.ts";
import { twilioInboxConfigOf } from "./config.ts";
import { bareAddress, requireInboxNumber, type TwilioRequest, verifyTwilioRequest } from "./verify.ts";

const seconds = z.coerce.number().int().min(0).max(10_000_000).optional();

/** The fields of Twilio Voice status callbacks that Rapport reads. */
export const TwilioCallCallback = z.object({
  CallSid: z.string().trim().min(1).max(64),
  AccountSid: z.string().min(1),
  CallStatus: z.enum([
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
  ]),
  Direction: z.string().trim().min(1).max(40).default("inbound"),
  From: z.string().trim().min(1).max(100),
  To: z.string().trim().min(1).max(100),
  CallDuration: seconds,
  QueueTime: seconds,
  RecordingUrl: z.url().optional(),
  RecordingSid: z.string().max(64).optional(),
  RecordingDuration: seconds,
  TranscriptionText: z.string().max(100_000).optional(),
  SequenceNumber: z.coerce.number().int().min(0).optional(),
});
export type TwilioCallCallback = z.infer<typeof TwilioCallCallback>;

// a status never goes back: a late "ringing" after "completed" changes nothing
const STATUS_RANK: Record<TwilioCallCallback["CallStatus"], number> = {
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

/** The call as its message shows it (`metadata.call` of the `call` message). */
export const CallDetails = z.object({
  callSid: z.string(),
  direction: z.string(),
  status: TwilioCallCallback.shape.CallStatus,
  from: z.string(),
  to: z.string(),
  durationSeconds: z.number().optional(),
  queueTimeSeconds: z.number().optional(),
  recordingUrl: z.string().optional(),
  recordingSid: z.string().optional(),
  recordingDurationSeconds: z.number().optional(),
  transcription: z.string().optional(),
  statuses: z.array(z.object({ status: z.string(), at: z.string() })),
});
export type CallDetails = z.infer<typeof CallDetails>;

function parseCallback(params: Record<string, string | string[]>): TwilioCallCallback {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = TwilioCallCallback.safeParse(flat);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "twilio.invalid_call",
      `Not a Twilio call status callback: ${issue?.path.join(".") || "form"} ${issue?.message ?? "is invalid"}.`,
      { field: issue?.path.join(".") },
    );
  }
  return parsed.data;
}

/** Folds one callback into what is known of the call; fields a callback lacks keep their value. */
export function mergeCall(known: CallDetails | undefined, cb: TwilioCallCallback, at: Date): CallDetails {
  const newer = !known || STATUS_RANK[cb.CallStatus] >= STATUS_RANK[known.status];
  const pick = <T>(value: T | undefined, old: T | undefined): T | undefined => value ?? old;
  const out: CallDetails = {
    callSid: cb.CallSid,
    direction: known?.direction ?? cb.Direction,
    status: newer ? cb.CallStatus : (known?.status ?? cb.CallStatus),
    from: known?.from ?? cb.From,
    to: known?.to ?? cb.To,
    statuses: [...(known?.statuses ?? []), { status: cb.CallStatus, at: at.toISOString() }],
  };
  const optional = {
    durationSeconds: pick(cb.CallDuration, known?.durationSeconds),
    queueTimeSeconds: pick(cb.QueueTime, known?.queueTimeSeconds),
    recordingUrl: pick(cb.RecordingUrl, known?.recordingUrl),
    recordingSid: pick(cb.RecordingSid, known?.recordingSid),
    recordingDurationSeconds: pick(cb.RecordingDuration, known?.recordingDurationSeconds),
    transcription: pick(cb.TranscriptionText, known?.transcription),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(out, { [k]: v });
  return out;
}

/** The line agents read for a call: who called, how it ended, how long it lasted. */
export function callSummary(call: CallDetails): string {
  const who = call.direction === "inbound" ? "Call from the customer" : "Call to the customer";
  const minutes = call.durationSeconds !== undefined ? Math.floor(call.durationSeconds / 60) : undefined;
  const length =
    call.durationSeconds !== undefined
      ? `, ${minutes}m ${String(call.durationSeconds % 60).padStart(2, "0")}s`
      : "";
  const transcript = call.transcription ? `\n${call.transcription}` : "";
  return `${who}: ${call.status.replace("-", " ")}${length}${transcript}`;
}

const StoredCall = z.object({
  call: z.custom<CallDetails>((v) => typeof v === "object" && v !== null).optional(),
});

/**
 * Takes in a Twilio Voice status callback for a `voice` inbox: verified like messages, the
 * call becomes one `call` message in the customer's conversation (one per CallSid), which
 * later callbacks update: status, duration, queue wait, recording and transcription.
 */
export async function receiveTwilioCall(
  db: Db,
  workspaceId: string,
  inboxId: string,
  request: TwilioRequest,
  opts: { defaultCountry: string },
): Promise<{ conversationId: string; messageId: string; customerId: string; call: CallDetails }> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  const config = twilioInboxConfigOf(inbox, ["voice"]);
  const cb = parseCallback(verifyTwilioRequest(config, request));
  const inbound = !cb.Direction.startsWith("outbound");
  const [ours, theirs] = inbound ? [cb.To, cb.From] : [cb.From, cb.To];
  requireInboxNumber(inbox, config, ours, undefined);
  let number: string;
  try {
    number = normalizePhone(bareAddress(theirs), opts.defaultCountry);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(
      "twilio.invalid_from",
      `"${theirs}" is not a phone number Rapport can file the call under.`,
      {
        number: theirs,
      },
    );
  }
  const at = new Date();
  const first = mergeCall(undefined, cb, at);
  const received = await receiveInbound(
    db,
    workspaceId,
    {
      inboxId: inbox.id,
      from: [{ kind: "phone", value: number }],
      contactAddress: number,
      providerMessageId: cb.CallSid,
      text: callSummary(first),
      metadata: { call: first },
      kind: "call",
      direction: inbound ? "inbound" : "outbound",
    },
    { defaultCountry: opts.defaultCountry },
  );
  let call = first;
  // the first callback's own insert already holds it; later ones fold into what is stored
  if (received.duplicate) {
    await updateMessage(db, workspaceId, received.messageId, (current) => {
      const stored = StoredCall.safeParse(current.metadata);
      call = mergeCall(stored.data?.call, cb, at);
      return { text: callSummary(call), metadata: { ...current.metadata, call } };
    });
  }
  return {
    conversationId: received.conversationId,
    messageId: received.messageId,
    customerId: received.customerId,
    call,
  };
}
