import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/** A widget visitor's anonymous id: what the browser keeps; letters, digits and `._:-`. */
export const AnonymousId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : - only");

/** Where the visitor is: the page, how they came to it, its campaign tags (utm_source…). */
export const VisitorSource = z.object({
  pageUrl: z.string().max(2000).optional(),
  referrer: z.string().max(2000).optional(),
  utm: z
    .record(z.string().min(1).max(40), z.string().max(200))
    .refine((u) => Object.keys(u).length <= 10, "at most 10 tags")
    .optional(),
});
export type VisitorSource = z.infer<typeof VisitorSource>;

/**
 * What a visitor token stands for: one browser (its anonymous id) on one chat inbox, and,
 * once proven by the identity hash, the brand's user id. `customerId` is the profile at
 * issue time; requests find the live one by identity, since merges move people.
 */
export const VisitorClaims = z.object({
  purpose: z.literal("chat"),
  workspaceId: z.uuid(),
  inboxId: z.uuid(),
  customerId: z.uuid(),
  anonymousId: AnonymousId,
  /** Present only when the visitor proved it with the identity hash. */
  userId: z.string().min(1).max(512).optional(),
  /** The page the session began on: the source of conversations the visitor opens from it. */
  source: VisitorSource.optional(),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int(),
});
export type VisitorClaims = z.infer<typeof VisitorClaims>;

/** How long a token works; the widget asks for a new one when it is refused (a fresh session). */
export const VISITOR_TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * The key tokens of one inbox are signed with: derived from the workspace's link secret, so
 * no new secret needs storing, and bound to the inbox, so one inbox's token opens no other.
 */
function tokenKey(linkSecret: string, inboxId: string): Buffer {
  return createHmac("sha256", linkSecret).update(`chat-visitor|${inboxId}`).digest();
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac("sha256", key).update(body).digest();
}

/** A compact signed token: base64url(JSON claims) + "." + base64url(HMAC-SHA256), as link tokens are. */
export function signVisitorToken(linkSecret: string, claims: VisitorClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${body}.${mac(tokenKey(linkSecret, claims.inboxId), body).toString("base64url")}`;
}

function parseClaims(body: string): VisitorClaims | undefined {
  try {
    const parsed = VisitorClaims.safeParse(JSON.parse(Buffer.from(body, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace and inbox a token claims, before its signature is checked (to find the secret). */
export function peekVisitorToken(token: string): { workspaceId: string; inboxId: string } | undefined {
  const [body] = token.split(".");
  const claims = body ? parseClaims(body) : undefined;
  return claims ? { workspaceId: claims.workspaceId, inboxId: claims.inboxId } : undefined;
}

export type VisitorTokenCheck =
  | { ok: true; claims: VisitorClaims }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/** Verifies a visitor token in constant time. */
export function verifyVisitorToken(linkSecret: string, token: string, nowMs = Date.now()): VisitorTokenCheck {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return { ok: false, reason: "malformed" };
  const claims = parseClaims(body);
  if (!claims) return { ok: false, reason: "malformed" };
  const expected = mac(tokenKey(linkSecret, claims.inboxId), body);
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "bad_signature" };
  }
  if (claims.exp * 1000 < nowMs) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}
