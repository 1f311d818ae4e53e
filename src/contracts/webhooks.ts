import { z } from "zod";

// The public shapes of outbound webhooks (Standard Webhooks), as the REST API presents them
// and as receivers get them. One zod schema each: the type, the filter and the OpenAPI entry.

/**
 * Every event type a brand can subscribe to. Modules that emit a new kind of event add it
 * here, so endpoints can name it and a typo in a subscription is refused at once.
 */
export const WEBHOOK_EVENT_TYPES = [
  "delivery.queued",
  // held by quiet hours or a cap, to be sent later; the delivery engine tells brands of it too
  "delivery.deferred",
  "delivery.sent",
  "delivery.delivered",
  "delivery.failed",
  "delivery.bounced",
  "delivery.opened",
  "delivery.clicked",
  "delivery.skipped",
  "consent.changed",
  "conversation.created",
  "conversation.updated",
  "message.created",
  "webhook.test",
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** True when `type` is one of WEBHOOK_EVENT_TYPES. */
export function isWebhookEventType(type: string): type is WebhookEventType {
  return WebhookEventType.safeParse(type).success;
}

/** The JSON body every delivery carries; `webhook-id` and the signature travel as headers. */
export const WebhookPayload = z.object({
  type: z.string(),
  timestamp: z.string().describe("When the event happened (ISO 8601); the same on every retry."),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

const Url = z
  .string()
  .trim()
  .min(1, "is required")
  .max(2048, "must be at most 2048 characters")
  .describe(
    "An https: (or http:) URL without credentials. Hosts that resolve to private, loopback or link-local " +
      "addresses are refused unless `allowPrivate` is set by an owner or admin.",
  );
// plain strings: the domain names an unknown type with the list of known ones
const EventTypes = z
  .array(z.string().max(100))
  .max(50)
  .describe(`Event types to send; empty or absent for all. Known types: ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
const Description = z.string().trim().max(500);
const AllowPrivate = z
  .boolean()
  .describe(
    "Owners and admins only: allow this endpoint's host although it resolves to a private, loopback or " +
      "link-local address (an on-premises receiver).",
  );

export const WebhookEndpointInput = z.object({
  url: Url,
  description: Description.optional(),
  eventTypes: EventTypes.optional(),
  allowPrivate: AllowPrivate.optional(),
});
export type WebhookEndpointInput = z.infer<typeof WebhookEndpointInput>;

export const WebhookEndpointPatch = z
  .object({
    url: Url.optional(),
    description: Description.optional(),
    eventTypes: EventTypes.optional(),
    allowPrivate: AllowPrivate.optional(),
    enabled: z
      .boolean()
      .optional()
      .describe("false stops deliveries; true re-enables an endpoint (also one disabled by a 410 Gone)."),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), "send at least one field to change");
export type WebhookEndpointPatch = z.infer<typeof WebhookEndpointPatch>;

export const WebhookEndpointView = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  allowPrivate: z.boolean(),
  enabled: z.boolean(),
  disabledAt: z.date().nullable(),
  disabledReason: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  secret: z
    .string()
    .optional()
    .describe("`whsec_…`: verify deliveries with it. Shown to owners, admins and secret keys only."),
});
export type WebhookEndpointView = z.infer<typeof WebhookEndpointView>;

export const WEBHOOK_MESSAGE_STATES = ["pending", "succeeded", "failed"] as const;

export const WebhookMessageView = z.object({
  id: z.string().describe("Also the `webhook-id` header: the same on every retry."),
  endpointId: z.uuid(),
  eventType: z.string(),
  state: z.enum(WEBHOOK_MESSAGE_STATES),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable().describe("The HTTP status of the last attempt, if it got one."),
  lastError: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type WebhookMessageView = z.infer<typeof WebhookMessageView>;
