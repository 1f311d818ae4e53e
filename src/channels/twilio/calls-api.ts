import { z } from "zod";
import {
  callProvider,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  isTransientStatus,
} from "../../delivery/providers/http-call.ts";
import type { VoiceSettings } from "./voice-config.ts";

// Twilio's Calls resource: POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json creates an
// outbound call from one of the account's numbers; the TwiML it runs when answered is given
// inline (`Twiml`), so no page of Rapport's has to serve it.

const TwilioCallCreated = z.object({
  sid: z.string().regex(/^CA[0-9a-zA-Z]{32}$/),
  status: z.string().optional(),
});
const TwilioError = z.object({ code: z.number().optional(), message: z.string().optional() });

export type CallCreated = { ok: true; callSid: string } | { ok: false; reason: string };

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
const xml = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);

/**
 * The TwiML a placed call runs once the customer answers: the greeting, then either the
 * queue (`<Enqueue>`, whose action reports the time waited) or a `<Dial>` that rings a number
 * with the inbox's number as caller id.
 */
export function connectTwiml(opts: {
  greeting?: string | undefined;
  callerId: string;
  connect: { number: string } | { queue: string };
  actionUrl: string;
}): string {
  const say = opts.greeting ? `<Say>${xml(opts.greeting)}</Say>` : "";
  const then =
    "queue" in opts.connect
      ? `<Enqueue action="${xml(opts.actionUrl)}" method="POST">${xml(opts.connect.queue)}</Enqueue>`
      : `<Dial callerId="${xml(opts.callerId)}" timeout="30"><Number>${xml(opts.connect.number)}</Number></Dial>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${say}${then}</Response>`;
}

/**
 * The form of a call to `to` from the inbox's number, running `twiml`, its status (initiated,
 * ringing, answered, completed) and recording posted to `callbackUrl`.
 */
export function callForm(
  settings: VoiceSettings,
  input: { to: string; twiml: string; callbackUrl: string },
): URLSearchParams {
  const form = new URLSearchParams();
  form.set("To", input.to);
  form.set("From", settings.number);
  form.set("Twiml", input.twiml);
  form.set("StatusCallback", input.callbackUrl);
  form.set("StatusCallbackMethod", "POST");
  for (const event of ["initiated", "ringing", "answered", "completed"])
    form.append("StatusCallbackEvent", event);
  form.set("Timeout", "30");
  if (settings.record) {
    form.set("Record", "true");
    form.set("RecordingStatusCallback", input.callbackUrl);
    form.set("RecordingStatusCallbackMethod", "POST");
    form.set("RecordingStatusCallbackEvent", "completed");
  }
  return form;
}

/**
 * Creates the call through the inbox's account. The idempotency key travels as
 * `I-Twilio-Idempotency-Token`, as for messages; any failure is returned with Twilio's
 * reason, never thrown.
 */
export async function createTwilioCall(
  settings: VoiceSettings,
  form: URLSearchParams,
  idempotencyKey: string,
): Promise<CallCreated> {
  const url = `${settings.baseUrl.replace(/\/$/, "")}/2010-04-01/Accounts/${settings.accountSid}/Calls.json`;
  const call = await callProvider(
    url,
    {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        "i-twilio-idempotency-token": idempotencyKey,
      },
      body: form.toString(),
    },
    new AbortController().signal,
    settings.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
  );
  if (!call.ok) return { ok: false, reason: call.result.reason };
  const { answer } = call;
  if (answer.status >= 200 && answer.status < 300) {
    const created = TwilioCallCreated.safeParse(answer.json);
    return created.success
      ? { ok: true, callSid: created.data.sid }
      : { ok: false, reason: `twilio_bad_answer: ${answer.status} without a call sid` };
  }
  const error = TwilioError.safeParse(answer.json);
  const message = (error.success ? error.data.message : undefined) ?? answer.text.slice(0, 200);
  const code = error.success && error.data.code !== undefined ? `${error.data.code} ` : "";
  const kind = isTransientStatus(answer.status) ? "twilio_unavailable" : "twilio_error";
  return { ok: false, reason: `${kind}: HTTP ${answer.status} ${code}${message}`.trim() };
}
