import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { CHANNELS } from "./tables.ts";

/**
 * What a preference-center or unsubscribe link stands for: one customer of one workspace,
 * and, for an unsubscribe, the channel and topic of the message it came in.
 */
export const LinkClaims = z.object({
  /** "p": open the preference center; "u": unsubscribe (one-click POST or the page). */
  purpose: z.enum(["p", "u"]),
  workspaceId: z.uuid(),
  customerId: z.uuid(),
  channel: z.enum(CHANNELS).optional(),
  topicId: z.uuid().optional(),
  deliveryId: z.uuid().optional(),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int(),
});
export type LinkClaims = z.infer<typeof LinkClaims>;

/** How long a link in a message works: long enough for an old email to stay useful. */
export const LINK_TTL_SECONDS = 90 * 24 * 3600;

function mac(secret: string, body: string): Buffer {
  return createHmac("sha256", secret).update(body).digest();
}

/** A compact signed token: base64url(JSON claims) + "." + base64url(HMAC-SHA256). */
export function signLinkToken(secret: string, claims: LinkClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${body}.${mac(secret, body).toString("base64url")}`;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/**
 * Verifies a token made by `signLinkToken` with a constant-time comparison. The workspace
 * is read from the (still unverified) claims by `peekWorkspace` first, to find its secret.
 */
export function verifyLinkToken(secret: string, token: string, nowMs = Date.now()): LinkCheck {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return { ok: false, reason: "malformed" };
  const expected = mac(secret, body);
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "bad_signature" };
  }
  const claims = parseClaims(body);
  if (!claims) return { ok: false, reason: "malformed" };
  if (claims.exp * 1000 < nowMs) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/** The workspace a token claims to belong to, before its signature is checked (to find the secret). */
export function peekWorkspace(token: string): string | undefined {
  const [body] = token.split(".");
  return body ? parseClaims(body)?.workspaceId : undefined;
}

function parseClaims(body: string): LinkClaims | undefined {
  try {
    const parsed = LinkClaims.safeParse(JSON.parse(Buffer.from(body, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
