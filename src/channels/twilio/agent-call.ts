import { z } from "zod";
import { getConversation } from "../../conversations/conversations.ts";
import { getInbox, type Inbox, listInboxes } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { getAudiences } from "../../profiles/customers.ts";
import { normalizePhone } from "../../profiles/identifiers.ts";
import { insertCallEntry } from "./call-entries.ts";
import { newCall, type PlacedCall, placeCall } from "./place-call.ts";
import { voiceSettingsOf } from "./voice-config.ts";

const E164 = /^\+[1-9]\d{1,14}$/;

/** What an agent's click-to-call may say: the phone to ring first (theirs), the voice inbox to call from. */
export const AgentCallInput = z.object({
  agentPhone: z
    .string()
    .trim()
    .min(3)
    .max(32)
    .optional()
    .describe("The phone that rings for the agent; the inbox's agentNumber when not given."),
  inboxId: z
    .uuid()
    .optional()
    .describe("The voice inbox whose number calls; the conversation's own when it is a voice inbox."),
});
export type AgentCallInput = z.infer<typeof AgentCallInput>;

/** The voice inbox a call goes out from: the one named, the conversation's own, else the workspace's first. */
async function callingInbox(
  db: Db,
  workspaceId: string,
  own: Inbox,
  named: string | undefined,
): Promise<Inbox> {
  if (named !== undefined) return getInbox(db, workspaceId, named);
  if (own.kind === "voice") return own;
  const voice = (await listInboxes(db, workspaceId)).find((i) => i.kind === "voice");
  if (!voice) {
    throw new AppError(
      "twilio.no_voice_inbox",
      "This workspace has no voice inbox to call from; create one (kind voice, its Twilio number as address).",
    );
  }
  return voice;
}

/** The customer's number: the conversation's own address when it is a phone, else a phone of their profile. */
async function customerPhone(
  db: Db,
  workspaceId: string,
  conversation: { customerId: string; contactAddress: string | null },
): Promise<string> {
  if (conversation.contactAddress && E164.test(conversation.contactAddress))
    return conversation.contactAddress;
  const audience = (await getAudiences(db, workspaceId, [conversation.customerId])).get(
    conversation.customerId,
  );
  const phone = audience?.identities.find((i) => i.kind === "phone" && E164.test(i.value))?.value;
  if (!phone) {
    throw new AppError(
      "twilio.no_customer_phone",
      "This conversation's customer has no phone number to call; add one to their profile first.",
      { customerId: conversation.customerId },
    );
  }
  return phone;
}

/**
 * An agent's click-to-call: Twilio calls the customer from the voice inbox's number and, once
 * they answer, rings the agent's phone and connects them. The call is an outbound `call` entry
 * of this conversation from the start, updated by its status callbacks (answer, duration, wait).
 */
export async function placeAgentCall(
  db: Db,
  workspaceId: string,
  conversationId: string,
  agentId: string | null,
  input: AgentCallInput,
  opts: { publicUrl: string; defaultCountry: string },
): Promise<PlacedCall> {
  const parsed = AgentCallInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "twilio.invalid_call_request",
      `${issue?.path.join(".") || "body"}: ${issue?.message}`,
    );
  }
  const conversation = await getConversation(db, workspaceId, conversationId);
  const own = await getInbox(db, workspaceId, conversation.inboxId);
  const settings = voiceSettingsOf(await callingInbox(db, workspaceId, own, parsed.data.inboxId));
  const to = await customerPhone(db, workspaceId, conversation);
  let agentPhone = settings.agentNumber;
  if (parsed.data.agentPhone !== undefined) {
    try {
      agentPhone = normalizePhone(parsed.data.agentPhone, opts.defaultCountry);
    } catch (err) {
      if (!isAppError(err)) throw err;
      throw new AppError(
        "twilio.invalid_agent_phone",
        `"${parsed.data.agentPhone}" is not a phone number; give the agent's phone with its country code, such as +14155550123.`,
      );
    }
  }
  if (agentPhone === undefined) {
    throw new AppError(
      "twilio.no_agent_phone",
      "Say which phone rings for you (agentPhone), or set the voice inbox's agentNumber.",
    );
  }
  const messageId = await insertCallEntry(db, workspaceId, {
    conversationId,
    inboxId: settings.inboxId,
    authorId: agentId,
    call: newCall(settings, to, { requestedBy: "agent", agentId: agentId ?? undefined }),
  });
  return placeCall(
    db,
    workspaceId,
    settings,
    { conversationId, messageId, to },
    { number: agentPhone },
    opts,
  );
}
