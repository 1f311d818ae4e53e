import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { AppError } from "../../errors.ts";
import { TwilioInboxConfig } from "./config.ts";

const E164 = z.string().regex(/^\+[1-9]\d{1,14}$/, "must be an E.164 number such as +14155550100");

/**
 * A voice inbox's click-to-call settings. Off unless `enabled`; the customer's callback is
 * connected to `queue` (an `<Enqueue>` queue agents take calls from) or else to `connectTo`
 * (a number that rings the team). Only numbers of `countries` are called (the inbox number's
 * own country when not given), and each number, and the inbox, are limited per day and hour.
 */
export const ClickToCallConfig = z
  .object({
    enabled: z.boolean().default(false),
    connectTo: E164.optional(),
    queue: z.string().trim().min(1).max(64).optional(),
    countries: z
      .array(z.string().regex(/^[A-Z]{2}$/, "must be an ISO country code such as US"))
      .min(1)
      .max(50)
      .optional(),
    perNumberPerDay: z.number().int().min(1).max(20).default(3),
    perInboxPerHour: z.number().int().min(1).max(10_000).default(60),
  })
  .refine((c) => !c.enabled || c.connectTo !== undefined || c.queue !== undefined, {
    message: "give connectTo (a number that rings the team) or queue (an <Enqueue> queue)",
    path: ["connectTo"],
  });
export type ClickToCallConfig = z.infer<typeof ClickToCallConfig>;

/**
 * What a voice inbox needs to place calls, besides its account (`accountSid`, `authToken`):
 * the API's base URL (a local fake in tests), the number an agent's call rings when the agent
 * names none, whether calls are recorded, a greeting the customer hears on answering, and
 * the click-to-call settings.
 */
export const VoiceInboxConfig = z.object({
  baseUrl: z.url().default("https://api.twilio.com"),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  agentNumber: E164.optional(),
  record: z.boolean().default(false),
  greeting: z.string().trim().min(1).max(500).optional(),
  clickToCall: ClickToCallConfig.optional(),
});
export type VoiceInboxConfig = z.infer<typeof VoiceInboxConfig>;

/** A voice inbox able to place calls: its number, account and settings. */
export type VoiceSettings = VoiceInboxConfig &
  TwilioInboxConfig & { inboxId: string; inboxName: string; number: string };

/**
 * The settings of a voice inbox that can place calls; any other inbox, or one whose settings
 * are incomplete, is refused with what to fix.
 */
export function voiceSettingsOf(inbox: Inbox): VoiceSettings {
  if (inbox.kind !== "voice") {
    throw new AppError(
      "twilio.not_a_voice_inbox",
      `Inbox "${inbox.name}" is a ${inbox.kind} inbox; calls are placed from a voice inbox.`,
      { inboxId: inbox.id },
    );
  }
  const account = TwilioInboxConfig.safeParse(inbox.config);
  const voice = VoiceInboxConfig.safeParse(inbox.config);
  const issue = (account.error ?? voice.error)?.issues[0];
  const number = inbox.address ?? "";
  if (!account.success || !voice.success || !E164.safeParse(number).success) {
    throw new AppError(
      "twilio.voice_inbox_unconfigured",
      issue
        ? `Voice inbox "${inbox.name}" cannot place calls: ${issue.path.join(".") || "config"} ${issue.message}.`
        : `Voice inbox "${inbox.name}" cannot place calls: its address must be its E.164 number.`,
      { inboxId: inbox.id },
    );
  }
  return { ...account.data, ...voice.data, inboxId: inbox.id, inboxName: inbox.name, number };
}
