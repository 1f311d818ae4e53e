import { z } from "zod";
import { CHANNELS } from "../consent/tables.ts";
import { DELIVERY_STATES } from "../delivery/tables.ts";

/** Who a message is for: a customer id, or one identifier that finds the customer. */
export const Recipient = z
  .object({
    customerId: z.uuid().optional(),
    userId: z.string().min(1).optional(),
    email: z.string().min(3).optional(),
    phone: z.string().min(3).optional(),
  })
  .refine((t) => Object.values(t).filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of customerId, userId, email or phone",
  });

/** Ad-hoc content (Liquid in every field), when a message uses no template. */
export const MessageContent = z.object({
  subject: z.string().max(998).optional(),
  text: z.string().min(1).max(100_000),
  html: z.string().max(500_000).optional(),
  title: z.string().max(500).optional(),
});

export const SendMessageBody = z.object({
  to: Recipient,
  topic: z.string().min(1).max(64).describe("The topic's key: promotions, account…"),
  channel: z.enum(CHANNELS).optional().describe("Forces the channel; by default the Gate chooses."),
  template: z.string().min(1).max(64).optional().describe("A template key; or give content."),
  content: MessageContent.optional(),
  data: z.record(z.string(), z.unknown()).optional().describe("Values for the template: {{ data.x }}."),
});

export const SendMessageResult = z.object({
  deliveryId: z.uuid(),
  decision: z.enum(["send", "defer", "skip"]),
  state: z.string(),
  reason: z.string().optional(),
  channel: z.enum(CHANNELS).nullable(),
  deferredUntil: z.string().optional(),
  replayed: z.boolean(),
});

export const Delivery = z.object({
  id: z.uuid(),
  customerId: z.uuid(),
  channel: z.enum(CHANNELS).nullable(),
  topic: z.string(),
  kind: z.enum(["marketing", "transactional"]),
  state: z.enum(DELIVERY_STATES),
  gate: z.object({
    action: z.enum(["send", "defer", "skip"]),
    reason: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  address: z.string().nullable(),
  content: z
    .object({
      subject: z.string().optional(),
      html: z.string().optional(),
      text: z.string(),
      title: z.string().optional(),
      data: z.record(z.string(), z.string()).optional(),
      mediaUrls: z.array(z.string()).optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .nullable(),
  language: z.string().nullable(),
  deferredUntil: z.string().nullable(),
  provider: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  attempts: z.number().int(),
  error: z.object({ reason: z.string(), retryable: z.boolean().optional() }).nullable(),
  source: z.string(),
  sourceRef: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().nullable(),
});

export const DeliveryWithEvents = Delivery.extend({
  events: z.array(
    z.object({ state: z.string(), details: z.record(z.string(), z.unknown()), at: z.string() }),
  ),
});

export const ProviderSetting = z.object({
  kind: z.string().describe("sandbox, smtp, twilio, fcm or in_app"),
  config: z.record(z.string(), z.unknown()).default({}),
});
