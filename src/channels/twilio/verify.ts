import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { type TwilioParams, verifyTwilioSignature } from "../../delivery/providers/twilio.ts";
import { AppError } from "../../errors.ts";
import type { TwilioInboxConfig } from "./config.ts";

/** A form post's fields as fastify's form parser gives them (a repeated name becomes a list). */
export const TwilioForm = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

/** What a Twilio webhook request brings: the URL Twilio called, its signature and its form. */
export type TwilioRequest = { url: string; signature: string | undefined; body: unknown };

/**
 * The URL Twilio signed: the configured public URL plus the path and query it called. Never
 * the Host header: behind a proxy it names the proxy's upstream, not what Twilio called.
 */
export function publicRequestUrl(publicUrl: string, requestUrl: string): string {
  return `${publicUrl.replace(/\/$/, "")}${requestUrl}`;
}

/**
 * Checks a webhook against one inbox's account: `X-Twilio-Signature` keyed by its auth token
 * over the public URL and the sorted form, then the `AccountSid` of the post. Throws
 * `twilio.forbidden` (403) before anything is read from the payload; returns the form.
 */
export function verifyTwilioRequest(config: TwilioInboxConfig, request: TwilioRequest): TwilioParams {
  const params: TwilioParams = TwilioForm.safeParse(request.body ?? {}).data ?? {};
  const signature = request.signature;
  if (!signature || !verifyTwilioSignature(config.authToken, request.url, params, signature)) {
    throw new AppError(
      "twilio.forbidden",
      signature
        ? "X-Twilio-Signature does not match this inbox's auth token for this URL (check RAPPORT_PUBLIC_URL is the URL Twilio calls)."
        : "X-Twilio-Signature is missing: only Twilio may post here.",
    );
  }
  if (params.AccountSid !== config.accountSid) {
    throw new AppError("twilio.forbidden", "This post comes from another Twilio account than this inbox's.");
  }
  return params;
}

/** A Twilio address without its channel prefix: `whatsapp:+14155550100` → `+14155550100`. */
export function bareAddress(address: string): string {
  return address.replace(/^[a-z]+:/i, "").trim();
}

/**
 * Checks that a verified post is for this inbox: its number (the inbox's address or one of
 * `numbers`), or any number of its Messaging Service pool, which Twilio names in
 * `MessagingServiceSid` (a pool's numbers each post with their own `To`).
 */
export function requireInboxNumber(
  inbox: Inbox,
  config: TwilioInboxConfig,
  number: string,
  messagingServiceSid: string | undefined,
): void {
  if (config.messagingServiceSid !== undefined && messagingServiceSid === config.messagingServiceSid) return;
  const own = bareAddress(number);
  const numbers = [inbox.address, ...(config.numbers ?? [])].flatMap((n) => (n ? [bareAddress(n)] : []));
  if (numbers.includes(own)) return;
  throw new AppError(
    "twilio.number_forbidden",
    `${own || "(no number)"} is not a number of this inbox; add it to the inbox's \`numbers\`, or set its Messaging Service SID.`,
    { number: own },
  );
}
