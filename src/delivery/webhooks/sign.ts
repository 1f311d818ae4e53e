import { createHmac, randomBytes } from "node:crypto";

// Standard Webhooks v1 (https://www.standardwebhooks.com): the signature is an HMAC-SHA256
// over `${id}.${timestamp}.${body}`, keyed with the secret's bytes, so brands verify with any
// off-the-shelf library. The secret is shown to admins as `whsec_` + base64.

const PREFIX = "whsec_";
/** The user agent of every delivery, so receivers can tell Rapport's requests apart. */
export const WEBHOOK_USER_AGENT = "Rapport-Webhooks/1.0";

/** A fresh endpoint secret: `whsec_` and 32 random bytes in base64 (a full HMAC-SHA256 key). */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString("base64")}`;
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const key = Buffer.from(secret.slice(PREFIX.length), "base64");
  if (key.length === 0) throw new Error("a webhook secret has no key bytes");
  return key;
}

/** `v1,<base64 HMAC-SHA256>` for one message id, timestamp (seconds) and exact body. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", keyOf(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest("base64");
  return `v1,${mac}`;
}

/**
 * The headers of one attempt. The id is the message's (the same on every retry, so receivers
 * dedupe by it); the timestamp is the attempt's, since receivers refuse stale timestamps.
 */
export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  now: Date = new Date(),
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(secret, id, timestamp, body),
  };
}
