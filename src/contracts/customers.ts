import { z } from "zod";

export const Identity = z.object({ kind: z.string(), value: z.string() });

export const Customer = z.object({
  id: z.uuid(),
  traits: z.record(z.string(), z.unknown()),
  identities: z.array(Identity),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Customer = z.infer<typeof Customer>;

export const TimelineEvent = z.object({
  id: z.uuid(),
  type: z.string(),
  name: z.string().nullable(),
  messageId: z.string(),
  userId: z.string().nullable(),
  anonymousId: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
  traits: z.record(z.string(), z.unknown()).nullable(),
  context: z.record(z.string(), z.unknown()),
  timestamp: z.string(),
  receivedAt: z.string(),
});

export const MergeRecord = z.object({
  id: z.uuid(),
  survivorId: z.uuid(),
  mergedId: z.uuid(),
  reason: z.string(),
  actor: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const ConflictRecord = z.object({
  id: z.uuid(),
  customerId: z.uuid(),
  otherCustomerId: z.uuid(),
  kind: z.string(),
  value: z.string(),
  reason: z.string(),
  messageId: z.string().nullable(),
  createdAt: z.string(),
});

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const Limit = z.coerce.number().int().min(1).max(200).default(50);
