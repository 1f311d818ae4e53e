import { z } from "zod";
import type { Channel } from "../../consent/tables.ts";
import type { RenderedContent } from "../tables.ts";

/** What a reply answers on its channel: a direct message, a comment (publicly or privately), a post. */
export const REPLY_TARGETS = ["dm", "comment_public", "comment_private", "post", "chat"] as const;

/** A reply sent through a conversation's own inbox, and what it answers there. */
export const ReplyVia = z.object({
  inboxId: z.uuid(),
  target: z
    .object({
      kind: z.enum(REPLY_TARGETS),
      /** The provider's id of what is answered: a comment id, a tweet id, a chat session. */
      id: z.string().min(1).max(256).optional(),
    })
    .optional(),
});
export type ReplyVia = z.infer<typeof ReplyVia>;

/** One message as a provider receives it: rendered, addressed, with its idempotency key. */
export type OutboundMessage = {
  workspaceId: string;
  deliveryId: string;
  customerId: string;
  channel: Channel;
  /** The destination on that channel: an email address, an E.164 number, a device token… */
  to: string;
  content: RenderedContent;
  /** Stable across retries: passed to providers that accept one, and the email Message-ID's seed. */
  idempotencyKey: string;
  /** Where the provider should post status callbacks for this message, when it supports them. */
  statusCallbackUrl?: string;
  /** For a reply through a conversation's inbox: what it answers there. */
  via?: ReplyVia;
};

/**
 * What a provider answers. Failures say whether another attempt could succeed, so the
 * delivery engine decides retries in one place; `retryAfterMs` honours a provider's wish.
 */
export type SendResult =
  | { ok: true; providerMessageId: string; state?: "sent" | "delivered" }
  | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

/** A way to send on some channels (SMTP, a Twilio-shaped API, the sandbox…). */
export interface Provider {
  /** Recorded on the delivery row: "sandbox", "smtp", "twilio"… */
  readonly kind: string;
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
}
