import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "../../errors.ts";

/** X's HMAC form: `sha256=` and the base64 HMAC-SHA256 keyed by the app's consumer secret. */
export function xSignature(consumerSecret: string, data: Buffer | string): string {
  return `sha256=${createHmac("sha256", consumerSecret).update(data).digest("base64")}`;
}

/**
 * The answer to X's Challenge-Response Check: `{ response_token }`, the signature of the
 * `crc_token` X sent. X sends one when the webhook is registered and then regularly; a
 * webhook that fails it stops receiving events.
 */
export function answerXCrc(consumerSecret: string, crcToken: string | undefined): { response_token: string } {
  if (!crcToken) {
    throw new AppError(
      "x.invalid_crc",
      "crc_token is missing: this URL answers X's Challenge-Response Check (GET ?crc_token=…) and takes Account Activity events by POST.",
    );
  }
  if (crcToken.length > 1024) {
    throw new AppError(
      "x.invalid_crc",
      "crc_token is longer than any token X sends (1024 characters at most).",
    );
  }
  return { response_token: xSignature(consumerSecret, crcToken) };
}

/**
 * Checks `x-twitter-webhooks-signature` over the raw bytes X sent (a re-serialised JSON
 * would not be the same bytes), in constant time. Throws `x.signature_forbidden` (403)
 * before anything of the payload is read.
 */
export function verifyXSignature(
  consumerSecret: string,
  rawBody: Buffer,
  signature: string | undefined,
): void {
  if (!signature) {
    throw new AppError(
      "x.signature_forbidden",
      "x-twitter-webhooks-signature is missing: only X, signing with the app's consumer secret, may post here.",
    );
  }
  const expected = Buffer.from(xSignature(consumerSecret, rawBody), "utf8");
  const given = Buffer.from(signature.trim(), "utf8");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AppError(
      "x.signature_forbidden",
      "x-twitter-webhooks-signature does not match this body signed with the inbox's consumer secret (check `consumerSecret` is the secret of the X app whose webhook posts here).",
    );
  }
}
