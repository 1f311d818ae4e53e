import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { type CallDetails, mergeCall } from "./call-details.ts";
import { adoptCallEntry, changeCallEntry } from "./call-entries.ts";
import { callForm, connectTwiml, createTwilioCall } from "./calls-api.ts";
import type { VoiceSettings } from "./voice-config.ts";

/** What placing a call answers: its entry in the conversation and its CallSid. */
export type PlacedCall = { conversationId: string; messageId: string; callSid: string; status: string };

/** Where Twilio posts a placed call's statuses, its queue action and recording: the voice webhook, naming the entry. */
export function callCallbackUrl(
  publicUrl: string,
  workspaceId: string,
  inboxId: string,
  entryId: string,
): string {
  return `${publicUrl.replace(/\/$/, "")}/webhooks/twilio/${workspaceId}/voice/${inboxId}?entry=${entryId}`;
}

/** A new outbound call's details, before Twilio has it. */
export function newCall(
  settings: VoiceSettings,
  to: string,
  by: { requestedBy: "agent" | "customer"; agentId?: string | undefined },
  at: Date = new Date(),
): CallDetails {
  return {
    callSid: "",
    direction: "outbound-api",
    status: "queued",
    from: settings.number,
    to,
    requestedBy: by.requestedBy,
    ...(by.agentId ? { agentId: by.agentId } : {}),
    queuedAt: at.toISOString(),
    statuses: [],
  };
}

/**
 * Asks Twilio to call `to` from the inbox's number for an entry already written, connecting
 * the answered call as `connect` says. The entry takes the CallSid (unless a status callback
 * got there first), or is marked failed with Twilio's reason, and `twilio.call_failed` is thrown.
 */
export async function placeCall(
  db: Db,
  workspaceId: string,
  settings: VoiceSettings,
  entry: { conversationId: string; messageId: string; to: string },
  connect: { number: string } | { queue: string },
  opts: { publicUrl: string },
): Promise<PlacedCall> {
  const callbackUrl = callCallbackUrl(opts.publicUrl, workspaceId, settings.inboxId, entry.messageId);
  const twiml = connectTwiml({
    greeting: settings.greeting,
    callerId: settings.number,
    connect,
    actionUrl: callbackUrl,
  });
  const created = await createTwilioCall(
    settings,
    callForm(settings, { to: entry.to, twiml, callbackUrl }),
    `call:${entry.messageId}`,
  );
  if (!created.ok) {
    await changeCallEntry(db, workspaceId, entry.messageId, (current) =>
      current ? { call: { ...current, status: "failed", error: created.reason } } : undefined,
    );
    throw new AppError("twilio.call_failed", `The call could not be placed: ${created.reason}`, {
      messageId: entry.messageId,
    });
  }
  await adoptCallEntry(db, workspaceId, settings.inboxId, entry.messageId, created.callSid);
  const call = await changeCallEntry(db, workspaceId, entry.messageId, (current) => ({
    call: mergeCall(
      current,
      {
        CallSid: created.callSid,
        AccountSid: settings.accountSid,
        Direction: "outbound-api",
        CallStatus: "queued",
      },
      new Date(),
    ),
  }));
  return {
    conversationId: entry.conversationId,
    messageId: entry.messageId,
    callSid: created.callSid,
    status: call?.status ?? "queued",
  };
}
