import { z } from "zod";
import { CHANNELS } from "../consent/tables.ts";
import type { Db } from "../db/client.ts";

/** A request to reach one customer: the one way any part of Rapport sends a message. */
export const SendRequest = z
  .object({
    customerId: z.uuid(),
    /** The topic's key (`promotions`, `account`…). */
    topic: z.string().min(1).max(64),
    /** Forces the channel; otherwise the customer's preference, then the workspace's order. */
    channel: z.enum(CHANNELS).optional(),
    /** A template key; or give `content`. */
    template: z.string().min(1).max(64).optional(),
    content: z
      .object({
        subject: z.string().max(998).optional(),
        text: z.string().min(1).max(100_000),
        html: z.string().max(500_000).optional(),
        title: z.string().max(500).optional(),
      })
      .optional(),
    /** Values for the template (`{{ data.order_id }}`). */
    data: z.record(z.string(), z.unknown()).default({}),
    /** The same key never sends twice; a different request under a used key is refused. */
    idempotencyKey: z.string().min(1).max(255),
    /** Who asks: "api", "agent", "journey", "status"…, and their reference. */
    source: z.string().min(1).max(64),
    sourceRef: z.string().max(255).optional(),
  })
  .refine((r) => (r.template === undefined) !== (r.content === undefined), {
    message: "give either a template or content, not both",
  });
export type SendRequest = z.input<typeof SendRequest>;

/** What became of a send request: the Gate's decision and the delivery row that records it. */
export type SendOutcome = {
  deliveryId: string;
  decision: "send" | "defer" | "skip";
  reason?: string;
  channel: string | null;
  deferredUntil?: string;
  /** True when the idempotency key had already been used for this same request. */
  replayed: boolean;
};

/** Passes a request through the Gate, writes the delivery and the job that sends it. */
export async function sendMessage(
  _db: Db,
  _workspaceId: string,
  _request: SendRequest,
): Promise<SendOutcome> {
  throw new Error("sendMessage is being built");
}
