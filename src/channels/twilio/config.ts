import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { AppError } from "../../errors.ts";

const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * A Twilio inbox's settings (`inboxes.config` of an `sms`, `whatsapp` or `voice` inbox): the
 * account whose auth token signs the webhooks, and the numbers it answers for. The inbox's
 * `address` is its own number; a Messaging Service pool is named by `messagingServiceSid`,
 * and `numbers` lists further numbers of the same inbox.
 */
export const TwilioInboxConfig = z.object({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio Account SID: AC and 32 hex digits"),
  authToken: z.string().min(1),
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, "must be a Messaging Service SID: MG and 32 hex digits")
    .optional(),
  numbers: z.array(z.string().regex(E164, "must be an E.164 number such as +14155550100")).optional(),
});
export type TwilioInboxConfig = z.infer<typeof TwilioInboxConfig>;

export const TWILIO_MESSAGE_KINDS = ["sms", "whatsapp"] as const;

/**
 * The Twilio settings of an inbox of one of `kinds`; any other inbox is "not found" to a
 * Twilio webhook, so one channel's URL cannot feed another's inbox.
 */
export function twilioInboxConfigOf(inbox: Inbox, kinds: readonly string[]): TwilioInboxConfig {
  if (!kinds.includes(inbox.kind)) {
    throw new AppError(
      "twilio.inbox_not_found",
      `This inbox is a ${inbox.kind} inbox; Twilio posts here only for ${kinds.join(" or ")} inboxes.`,
      { inboxId: inbox.id },
    );
  }
  const parsed = TwilioInboxConfig.safeParse(inbox.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // without a valid account and token nothing Twilio sends here can be verified
    throw new AppError(
      "twilio.forbidden",
      `This inbox's Twilio settings are incomplete (${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}); no request can be verified until they are fixed.`,
      { inboxId: inbox.id },
    );
  }
  return parsed.data;
}
