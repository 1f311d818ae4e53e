import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random base62 string with `length` characters (about 5.95 bits each). */
export function randomToken(length = 32): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    // reject the top of the range so every character is equally likely
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out.length === length ? out : out + randomToken(length - out.length);
}

/** High-entropy tokens are stored as SHA-256; a slow hash is only needed for passwords. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Packs a workspace id into a token so it can be looked up by `(workspace_id, hash)`. */
export function workspaceTag(workspaceId: string): string {
  return workspaceId.replaceAll("-", "");
}

/** Reads the workspace id back out of a tag made by `workspaceTag`, or undefined. */
export function parseWorkspaceTag(tag: string): string | undefined {
  if (!/^[0-9a-f]{32}$/.test(tag)) return undefined;
  return `${tag.slice(0, 8)}-${tag.slice(8, 12)}-${tag.slice(12, 16)}-${tag.slice(16, 20)}-${tag.slice(20)}`;
}

/** Splits `<prefix>_<workspace tag>_<secret>` into its workspace id, or undefined if malformed. */
export function parsePrefixedToken(token: string, prefix: string): { workspaceId: string } | undefined {
  const parts = token.split("_");
  if (parts.length !== 3 || parts[0] !== prefix || !parts[2] || parts[2].length < 16) return undefined;
  const workspaceId = parseWorkspaceTag(parts[1] ?? "");
  return workspaceId ? { workspaceId } : undefined;
}
