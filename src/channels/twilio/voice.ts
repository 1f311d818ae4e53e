import { findByProviderId, receiveInbound } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { isUuid } from "../../ids.ts";
import type { EnqueueSpec } from "../../jobs/index.ts";
import { normalizePhone } from "../../profiles/identifiers.ts";
import {
  type CallDetails,
  callSummary,
  mergeCall,
  recordingPart,
  TwilioCallCallback,
  withoutRecording,
} from "./call-details.ts";
import { adoptCallEntry, changeCallEntry } from "./call-entries.ts";
import { twilioInboxConfigOf } from "./config.ts";
import { recordingJobSpec } from "./recording-job.ts";
import { bareAddress, requireInboxNumber, type TwilioRequest, verifyTwilioRequest } from "./verify.ts";

export { type CallDetails, callSummary, mergeCall, TwilioCallCallback } from "./call-details.ts";

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

export type ReceivedCall = {
  conversationId: string;
  messageId: string;
  customerId: string;
  call: CallDetails;
  /** The post was a TwiML action (`<Enqueue>`/`<Dial>` ended): Twilio waits for TwiML in answer. */
  action: boolean;
};

/**
 * Takes in a Twilio Voice callback for a `voice` inbox: verified like messages, the call
 * becomes one `call` message in the customer's conversation (one per CallSid), which later
 * callbacks update: status, duration, queue wait, recording (fetched by a job) and transcript.
 * `entryId` names the entry of a call Rapport placed (its callback URL carries it), so a
 * status that arrives before Twilio's answer still finds it.
 */
export async function receiveTwilioCall(
  db: Db,
  workspaceId: string,
  inboxId: string,
  request: TwilioRequest,
  opts: { defaultCountry: string; entryId?: string | undefined },
): Promise<ReceivedCall> {
  const inbox = await getInbox(db, workspaceId, inboxId);
  const config = twilioInboxConfigOf(inbox, ["voice"]);
  const cb = parseCallback(verifyTwilioRequest(config, request));
  const inbound = !cb.Direction.startsWith("outbound");
  const [ours, theirs] = inbound ? [cb.To, cb.From] : [cb.From, cb.To];
  // a recording callback names no numbers: the account's signature and the known CallSid vouch for it
  if (ours !== undefined) requireInboxNumber(inbox, config, ours, undefined);
  const action = cb.QueueResult !== undefined || cb.DialCallStatus !== undefined;
  const at = new Date();
  if (opts.entryId !== undefined && isUuid(opts.entryId)) {
    await adoptCallEntry(db, workspaceId, inbox.id, opts.entryId, cb.CallSid);
  }
  const known = await findByProviderId(db, workspaceId, inbox.id, cb.CallSid);
  if (known) {
    const call = await applyCallback(db, workspaceId, inbox.id, known.messageId, cb, at);
    return { ...known, call, action };
  }
  if (cb.CallStatus === undefined) {
    throw new AppError(
      "twilio.call_not_found",
      `No call ${cb.CallSid} is known on this inbox; its status callbacks must come first.`,
      { callSid: cb.CallSid },
    );
  }
  if (theirs === undefined || ours === undefined) {
    throw new AppError(
      "twilio.invalid_call",
      "Not a Twilio call status callback: From and To are required.",
      {
        field: theirs === undefined ? (inbound ? "From" : "To") : inbound ? "To" : "From",
      },
    );
  }
  let number: string;
  try {
    number = normalizePhone(bareAddress(theirs), opts.defaultCountry);
  } catch (err) {
    if (!isAppError(err)) throw err;
    throw new AppError(
      "twilio.invalid_from",
      `"${theirs}" is not a phone number Rapport can file the call under.`,
      { number: theirs },
    );
  }
  // the recording is folded in by an update, with its fetch job in the same transaction
  const first = mergeCall(undefined, withoutRecording(cb), at);
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
    { defaultCountry: opts.defaultCountry, inbox },
  );
  let call = first;
  // a concurrent first callback stored it: this one folds in whole; else only its recording is left
  const rest = received.duplicate ? cb : cb.RecordingUrl !== undefined ? recordingPart(cb) : undefined;
  if (rest) call = await applyCallback(db, workspaceId, inbox.id, received.messageId, rest, at);
  return {
    conversationId: received.conversationId,
    messageId: received.messageId,
    customerId: received.customerId,
    call,
    action,
  };
}

/** Folds a callback into a stored call; a new recording's fetch is enqueued with it. */
async function applyCallback(
  db: Db,
  workspaceId: string,
  inboxId: string,
  messageId: string,
  cb: TwilioCallCallback,
  at: Date,
): Promise<CallDetails> {
  let merged: CallDetails | undefined;
  await changeCallEntry(db, workspaceId, messageId, (current) => {
    merged = mergeCall(current, cb, at);
    const jobs: EnqueueSpec[] = [];
    if (
      cb.RecordingUrl !== undefined &&
      cb.RecordingSid !== undefined &&
      current?.recording?.sid !== cb.RecordingSid
    ) {
      jobs.push(
        recordingJobSpec({
          workspaceId,
          inboxId,
          messageId,
          recordingSid: cb.RecordingSid,
          recordingUrl: cb.RecordingUrl,
        }),
      );
    }
    return { call: merged, jobs };
  });
  if (!merged) throw new Error("the call entry was not changed");
  return merged;
}
