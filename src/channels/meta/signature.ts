import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "../../errors.ts";

/** Meta's `X-Hub-Signature-256` of a body: `sha256=` and the hex HMAC-SHA256 keyed by the app secret. */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}

/**
 * Checks `X-Hub-Signature-256` over the raw bytes Meta sent (never a re-serialised JSON: Meta
 * escapes non-ASCII characters, so a round trip changes the bytes), in constant time. Throws
 * `meta.signature_forbidden` (403) before anything of the payload is read.
 */
export function verifyMetaSignature(appSecret: string, rawBody: Buffer, signature: string | undefined): void {
  if (!signature) {
    throw new AppError(
      "meta.signature_forbidden",
      "X-Hub-Signature-256 is missing: only Meta, signing with the app secret, may post here.",
    );
  }
  const expected = Buffer.from(metaSignature(appSecret, rawBody), "utf8");
  const given = Buffer.from(signature.trim().toLowerCase(), "utf8");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AppError(
      "meta.signature_forbidden",
      "X-Hub-Signature-256 does not match this body signed with the inbox's app secret (check `appSecret` is the secret of the app whose webhook posts here).",
    );
  }
}

/** What Meta sends to verify a webhook URL: `hub.mode`, `hub.verify_token`, `hub.challenge`. */
export type HubChallenge = {
  mode?: string | undefined;
  verifyToken?: string | undefined;
  challenge?: string | undefined;
};

/**
 * Answers Meta's verification request: the challenge, echoed, when the mode is `subscribe`
 * and the token is the inbox's verify token (compared in constant time); 403 otherwise.
 */
export function answerHubChallenge(verifyToken: string, query: HubChallenge): string {
  if (query.mode !== "subscribe") {
    throw new AppError(
      "meta.challenge_invalid",
      'hub.mode must be "subscribe": this URL answers Meta\'s webhook verification.',
      { mode: query.mode ?? null },
    );
  }
  if (!query.challenge) {
    throw new AppError("meta.challenge_invalid", "hub.challenge is missing: there is nothing to echo.");
  }
  const expected = createHmac("sha256", "hub").update(verifyToken).digest();
  const given = createHmac("sha256", "hub")
    .update(query.verifyToken ?? "")
    .digest();
  // hashed first so the comparison takes the same time whatever the lengths
  if (!query.verifyToken || !timingSafeEqual(expected, given)) {
    throw new AppError(
      "meta.verify_token_forbidden",
      "hub.verify_token is not this inbox's verify token: type the inbox's `verifyToken` in the app's webhook settings.",
    );
  }
  return query.challenge;
}
