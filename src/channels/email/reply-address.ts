import { createHmac, timingSafeEqual } from "node:crypto";

// "reply+" + 32 hex of the conversation id + 16 hex of its MAC: 54 characters, under the
// 64 a local part may have, and all lower-case hex so no relay's case folding breaks it
const REPLY_LOCAL = /^reply\+([0-9a-f]{32})([0-9a-f]{16})$/;

function mac(secret: string, conversationId: string): Buffer {
  return createHmac("sha256", secret).update(`reply:${conversationId}`).digest().subarray(0, 8);
}

function hexOf(uuid: string): string {
  return uuid.replace(/-/g, "").toLowerCase();
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The per-conversation reply address (`reply+<token>@domain`) agents' emails carry as
 * Reply-To, so an answer finds its conversation even when a mail client drops the thread
 * headers. The token is the conversation id and an HMAC with the workspace's link secret.
 */
export function replyAddress(
  settings: { linkSecret: string },
  conversationId: string,
  domain: string,
): string {
  return `reply+${hexOf(conversationId)}${mac(settings.linkSecret, conversationId).toString("hex")}@${domain.toLowerCase()}`;
}

/** The conversation a reply address names and its (unchecked) MAC, or undefined for any other address. */
export function readReplyAddress(address: string): { conversationId: string; mac: string } | undefined {
  const at = address.lastIndexOf("@");
  if (at < 1) return undefined;
  const m = REPLY_LOCAL.exec(address.slice(0, at).toLowerCase());
  if (!m?.[1] || !m[2]) return undefined;
  return { conversationId: uuidOf(m[1]), mac: m[2] };
}

/** Whether a reply address's MAC was made with this secret for this conversation (constant time). */
export function replyMacValid(secret: string, conversationId: string, givenMac: string): boolean {
  const expected = mac(secret, conversationId);
  const given = Buffer.from(givenMac, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
