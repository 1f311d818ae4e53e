import { z } from "zod";

/** Segment's limits: an event may be at most 32 KB, a batch at most 500 KB. */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;

const IdValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, "must not be empty").max(512, "must be at most 512 characters"));

/** Any date `Date.parse` reads that starts like ISO 8601 (Segment clients send ISO strings). */
export const Timestamp = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && Number.isFinite(Date.parse(s)), {
    message: "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z",
  })
  .transform((s) => new Date(s));

const Dict = z.record(z.string(), z.unknown());

const Common = {
  messageId: z.string().min(1).max(200).optional(),
  userId: IdValue.nullish(),
  anonymousId: IdValue.nullish(),
  timestamp: Timestamp.optional(),
  originalTimestamp: Timestamp.optional(),
  sentAt: Timestamp.optional(),
  context: Dict.optional(),
};

export const IdentifyEvent = z.object({ type: z.literal("identify"), ...Common, traits: Dict.optional() });
export const TrackEvent = z.object({
  type: z.literal("track"),
  ...Common,
  event: z.string().min(1, "a track call needs an event name").max(200),
  properties: Dict.optional(),
});
export const PageEvent = z.object({
  type: z.literal("page"),
  ...Common,
  name: z.string().max(200).nullish(),
  category: z.string().max(200).nullish(),
  properties: Dict.optional(),
});
export const ScreenEvent = PageEvent.extend({ type: z.literal("screen") });
export const GroupEvent = z.object({
  type: z.literal("group"),
  ...Common,
  groupId: IdValue,
  traits: Dict.optional(),
});
export const AliasEvent = z.object({
  type: z.literal("alias"),
  ...Common,
  previousId: IdValue,
  userId: IdValue,
});

export const SegmentEvent = z.discriminatedUnion("type", [
  IdentifyEvent,
  TrackEvent,
  PageEvent,
  ScreenEvent,
  GroupEvent,
  AliasEvent,
]);
export type SegmentEvent = z.infer<typeof SegmentEvent>;

export const EVENT_TYPES = ["identify", "track", "page", "screen", "group", "alias"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One rejected item of a batch: where it was, and why. */
export const RejectedEvent = z.object({
  index: z.number().int(),
  messageId: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});
export type RejectedEvent = z.infer<typeof RejectedEvent>;

export const IngestResponse = z.object({
  success: z.boolean(),
  accepted: z.number().int().describe("Valid events, durably queued; a replayed messageId is stored once."),
  rejected: z.array(RejectedEvent),
});
export type IngestResponse = z.infer<typeof IngestResponse>;
