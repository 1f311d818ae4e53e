import { sql } from "drizzle-orm";
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { z } from "zod";
import { getConversation, updateConversation } from "../../conversations/conversations.ts";
import { receiveInbound } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import { type Db, rows } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { findByIdentifier } from "../../profiles/customers.ts";
import { callSummary } from "./call-details.ts";
import { newCall, type PlacedCall, placeCall } from "./place-call.ts";
import { type VoiceSettings, voiceSettingsOf } from "./voice-config.ts";

/** A customer's request to be called back, from a brand's page ("Call me"). */
export const CallbackRequest = z.object({
  workspaceId: z.uuid(),
  inboxId: z.uuid().describe("The voice inbox whose click-to-call is enabled."),
  phone: z.string().trim().min(3).max(32).describe("The customer's number, best with its country code."),
  name: z.string().trim().min(1).max(120).optional(),
  pageUrl: z
    .string()
    .trim()
    .max(2000)
    .optional()
    .describe("The page the button is on (recorded as the source)."),
  referrer: z.string().trim().max(2000).optional(),
});
export type CallbackRequest = z.infer<typeof CallbackRequest>;

// people's lines only: premium-rate, shared-cost, pagers, UAN… cost the brand or reach no one
const CALLABLE_TYPES = new Set(["MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE"]);

function unavailable(): AppError {
  // the same answer for an unknown workspace, inbox or a disabled button: nothing to probe
  return new AppError("twilio.click_to_call_not_found", "Click-to-call is not available here.");
}

/**
 * The number to call back, checked: a valid number, in a country the inbox calls, of a
 * person's line (mobile or landline), and not one of the brand's own numbers.
 */
export function callbackNumber(raw: string, settings: VoiceSettings): string {
  const own = parsePhoneNumberFromString(settings.number);
  const countries = settings.clickToCall?.countries ?? (own?.country ? [own.country] : []);
  const fallback = [countries[0], own?.country].find(
    (c): c is CountryCode => c !== undefined && isSupportedCountry(c),
  );
  const parsed = parsePhoneNumberFromString(raw, fallback ?? "US");
  if (!parsed?.isValid()) {
    throw new AppError(
      "twilio.invalid_callback_number",
      `"${raw}" is not a phone number we can call; give it with its country code, such as +14155550123.`,
    );
  }
  if (!parsed.country || !countries.includes(parsed.country)) {
    throw new AppError(
      "twilio.callback_number_refused",
      `Only numbers in ${countries.join(", ")} are called back here.`,
      { countries },
    );
  }
  const type = parsed.getType();
  if (type === undefined || !CALLABLE_TYPES.has(type)) {
    throw new AppError(
      "twilio.callback_number_refused",
      "Only mobile and landline numbers are called back, not premium-rate, shared-cost or other special numbers.",
    );
  }
  const number = parsed.number;
  if (
    number === settings.number ||
    number === settings.clickToCall?.connectTo ||
    number === settings.agentNumber
  ) {
    throw new AppError("twilio.callback_number_refused", "That is one of our own numbers.");
  }
  return number;
}

function rateLimited(message: string): AppError {
  return new AppError("request.rate_limited", message);
}

/** Refuses a request beyond the inbox's limits: per number (10 minutes apart, so many a day) and per hour. */
async function checkLimits(
  db: Db,
  workspaceId: string,
  settings: VoiceSettings,
  number: string,
  country: string,
) {
  const limits = settings.clickToCall;
  if (!limits) throw unavailable();
  const [inbox] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM conversation_messages
        WHERE workspace_id = ${workspaceId} AND inbox_id = ${settings.inboxId} AND kind = 'call'
          AND direction = 'outbound' AND metadata->'call'->>'requestedBy' = 'customer'
          AND created_at > now() - interval '1 hour'`,
  );
  if ((inbox?.n ?? 0) >= limits.perInboxPerHour) {
    throw rateLimited("We are taking many callback requests right now; please try again in a little while.");
  }
  const customer = await findByIdentifier(db, workspaceId, "phone", number, country);
  if (!customer) return;
  const [mine] = await rows<{ recent: number; today: number }>(
    db,
    sql`SELECT count(*) FILTER (WHERE m.created_at > now() - interval '10 minutes')::int AS recent,
          count(*)::int AS today
        FROM conversations c JOIN conversation_messages m ON m.workspace_id = c.workspace_id AND m.conversation_id = c.id
        WHERE c.workspace_id = ${workspaceId} AND c.customer_id = ${customer.id} AND m.inbox_id = ${settings.inboxId}
          AND m.kind = 'call' AND m.metadata->'call'->>'requestedBy' = 'customer'
          AND m.created_at > now() - interval '24 hours'`,
  );
  if ((mine?.recent ?? 0) > 0) throw rateLimited("A call to this number is already on its way.");
  if ((mine?.today ?? 0) >= limits.perNumberPerDay) {
    throw rateLimited("This number has asked for several callbacks today; please try again tomorrow.");
  }
}

/**
 * A customer asks to be called back: when the voice inbox enables click-to-call, the number
 * is checked and limited, the request becomes an outbound `call` entry in the customer's
 * conversation on that inbox (opened or reopened: the customer is asking for help, with the
 * page as its source), and Twilio calls them, connecting them to the team's queue or number.
 */
export async function requestCallback(
  db: Db,
  input: CallbackRequest,
  opts: { publicUrl: string },
): Promise<PlacedCall> {
  const request = CallbackRequest.safeParse(input);
  if (!request.success) {
    const issue = request.error.issues[0];
    throw new AppError(
      "twilio.invalid_callback_request",
      `${issue?.path.join(".") || "body"}: ${issue?.message}`,
    );
  }
  const r = request.data;
  let settings: VoiceSettings;
  try {
    settings = voiceSettingsOf(await getInbox(db, r.workspaceId, r.inboxId));
  } catch (err) {
    if (isAppError(err)) throw unavailable();
    throw err;
  }
  const clickToCall = settings.clickToCall;
  if (!clickToCall?.enabled) throw unavailable();
  const number = callbackNumber(r.phone, settings);
  const country = parsePhoneNumberFromString(number)?.country ?? "US";
  await checkLimits(db, r.workspaceId, settings, number, country);
  const call = newCall(settings, number, { requestedBy: "customer" });
  const received = await receiveInbound(
    db,
    r.workspaceId,
    {
      inboxId: settings.inboxId,
      from: [{ kind: "phone", value: number }],
      contactAddress: number,
      ...(r.name ? { traits: { name: r.name } } : {}),
      text: callSummary(call),
      metadata: { call },
      kind: "call",
      direction: "outbound",
      source: {
        ...(r.pageUrl ? { pageUrl: r.pageUrl } : {}),
        ...(r.referrer ? { referrer: r.referrer } : {}),
      },
    },
    { defaultCountry: country },
  );
  if (!received.opened) {
    const { status } = await getConversation(db, r.workspaceId, received.conversationId);
    if (status !== "open")
      await updateConversation(db, r.workspaceId, received.conversationId, { status: "open" });
  }
  const connect =
    clickToCall.queue !== undefined ? { queue: clickToCall.queue } : { number: clickToCall.connectTo ?? "" };
  return placeCall(
    db,
    r.workspaceId,
    settings,
    { conversationId: received.conversationId, messageId: received.messageId, to: number },
    connect,
    opts,
  );
}
