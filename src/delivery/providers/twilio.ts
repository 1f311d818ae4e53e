import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import {
  callProvider,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  type HttpAnswer,
  isTransientStatus,
  retryableAnswer,
} from "./http-call.ts";
import type { OutboundMessage, Provider, SendResult } from "./types.ts";

const E164 = /^\+[1-9]\d{1,14}$/;

/** A workspace's Twilio settings, as stored in `delivery_providers.config` (kind "twilio"). */
export const TwilioConfig = z
  .object({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio Account SID: AC and 32 hex digits"),
    authToken: z.string().min(1),
    /** The sending number (E.164); or send through a Messaging Service's pool. */
    from: z.string().regex(E164, "must be an E.164 number such as +14155550100").optional(),
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, "must be a Messaging Service SID: MG and 32 hex digits")
      .optional(),
    /** The WhatsApp sender (E.164); `from` or the Messaging Service when absent. */
    whatsappFrom: z.string().regex(E164, "must be an E.164 number such as +14155550100").optional(),
    baseUrl: z.url().default("https://api.twilio.com"),
    timeoutMs: z.number().int().min(100).max(120_000).optional(),
  })
  .refine((c) => c.from !== undefined || c.messagingServiceSid !== undefined, {
    message: "give `from` (a number) or `messagingServiceSid` (a sender pool)",
    path: ["from"],
  });
export type TwilioConfig = z.infer<typeof TwilioConfig>;

// Twilio answers these for a number that can never receive: the engine suppresses it
const INVALID_NUMBER_CODES = new Set([21211, 21614]);

const TwilioError = z.object({ code: z.number().optional(), message: z.string().optional() });
const TwilioCreated = z.object({ sid: z.string().min(1) });

function whatsapp(address: string): string {
  return address.startsWith("whatsapp:") ? address : `whatsapp:${address}`;
}

/** The form Twilio's Messages resource expects for this message on this channel. */
export function twilioMessageForm(
  config: TwilioConfig,
  channel: "sms" | "whatsapp",
  message: OutboundMessage,
): URLSearchParams {
  const form = new URLSearchParams();
  form.set("To", channel === "whatsapp" ? whatsapp(message.to) : message.to);
  if (channel === "whatsapp" && config.whatsappFrom) form.set("From", whatsapp(config.whatsappFrom));
  else if (config.messagingServiceSid) form.set("MessagingServiceSid", config.messagingServiceSid);
  else if (config.from) form.set("From", channel === "whatsapp" ? whatsapp(config.from) : config.from);
  form.set("Body", message.content.text);
  for (const url of message.content.mediaUrls ?? []) form.append("MediaUrl", url);
  if (message.statusCallbackUrl) form.set("StatusCallback", message.statusCallbackUrl);
  return form;
}

function mapAnswer(answer: HttpAnswer): SendResult {
  if (answer.status >= 200 && answer.status < 300) {
    const created = TwilioCreated.safeParse(answer.json);
    if (created.success) return { ok: true, providerMessageId: created.data.sid, state: "sent" };
    // accepted without a sid: another attempt could send a second message
    return {
      ok: false,
      retryable: false,
      reason: `twilio_bad_answer: ${answer.status} without a message sid`,
    };
  }
  if (isTransientStatus(answer.status)) {
    return retryableAnswer(answer, `twilio_http_${answer.status}: ${answer.text.slice(0, 200)}`);
  }
  const parsed = TwilioError.safeParse(answer.json);
  const code = parsed.success ? parsed.data.code : undefined;
  const message = (parsed.success ? parsed.data.message : undefined) ?? answer.text.slice(0, 200);
  if (code !== undefined && INVALID_NUMBER_CODES.has(code)) {
    return { ok: false, retryable: false, reason: `invalid_number: ${code} ${message}` };
  }
  return {
    ok: false,
    retryable: false,
    reason:
      code !== undefined ? `twilio_error: ${code} ${message}` : `twilio_http_${answer.status}: ${message}`,
  };
}

/**
 * SMS or WhatsApp through Twilio's Messages API (or anything shaped like it at `baseUrl`).
 * Twilio's REST API has no general idempotency key: the key travels as
 * `I-Twilio-Idempotency-Token` (the header Twilio uses for its own webhook retries), which
 * fakes and proxies can honour; the delivery ledger is what stops Rapport sending twice.
 */
export function createTwilioProvider(config: TwilioConfig, channel: "sms" | "whatsapp"): Provider {
  const url = `${config.baseUrl.replace(/\/$/, "")}/2010-04-01/Accounts/${config.accountSid}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString("base64")}`;
  return {
    kind: "twilio",
    async send(message, signal) {
      const call = await callProvider(
        url,
        {
          method: "POST",
          headers: {
            authorization: auth,
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
            "i-twilio-idempotency-token": message.idempotencyKey,
          },
          body: twilioMessageForm(config, channel, message).toString(),
        },
        signal,
        config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
      );
      return call.ok ? mapAnswer(call.answer) : call.result;
    },
  };
}

/** Where Twilio posts status callbacks for a workspace's messages. */
export function twilioStatusCallbackUrl(publicUrl: string, workspaceId: string): string {
  return `${publicUrl.replace(/\/$/, "")}/webhooks/twilio/status/${workspaceId}`;
}

export type TwilioParams = Record<string, string | string[]>;

/**
 * Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the auth token, of the full URL
 * followed by each POST parameter's name and value, sorted by name (a repeated name
 * contributes each of its values, sorted).
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = Array.isArray(value) ? [...value].sort() : [value ?? ""];
    for (const v of values) data += name + v;
  }
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

// Twilio may sign the URL with or without an explicit default port (its own helpers try both)
function urlVariants(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = parsed.protocol === "https:" ? "443" : parsed.protocol === "http:" ? "80" : "";
  // URL drops a default port, so an empty port is either none or the default one written out
  if (parsed.port !== "" || !defaultPort) return [url];
  const rest = `${parsed.pathname}${parsed.search}`;
  return [
    ...new Set([
      url,
      `${parsed.protocol}//${parsed.hostname}${rest}`,
      `${parsed.protocol}//${parsed.hostname}:${defaultPort}${rest}`,
    ]),
  ];
}

/** Constant-time check of an `X-Twilio-Signature` against one auth token. */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signature: string,
): boolean {
  const given = Buffer.from(signature, "utf8");
  return urlVariants(url).some((u) => {
    const expected = Buffer.from(twilioSignature(authToken, u, params), "utf8");
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Twilio's message statuses as delivery states; undefined for the in-between ones (queued…). */
export function twilioStatusState(status: string): "sent" | "delivered" | "opened" | "failed" | undefined {
  switch (status) {
    case "sent":
      return "sent";
    case "delivered":
      return "delivered";
    case "read":
      return "opened";
    case "undelivered":
    case "failed":
      return "failed";
    default:
      return undefined;
  }
}
