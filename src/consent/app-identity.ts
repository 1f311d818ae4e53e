import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Identity verification for the brand's app: its backend signs each user id with the
 * workspace's identity secret (hex HMAC-SHA256), and the app sends both. Without the
 * secret nobody can speak for another user id.
 */
export function appUserHash(identitySecret: string, userId: string): string {
  return createHmac("sha256", identitySecret).update(userId).digest("hex");
}

/** Constant-time check of an app user's hash. */
export function verifyAppUser(identitySecret: string, userId: string, hash: string): boolean {
  const expected = Buffer.from(appUserHash(identitySecret, userId), "hex");
  const given = /^[0-9a-f]{64}$/i.test(hash) ? Buffer.from(hash, "hex") : Buffer.alloc(0);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
