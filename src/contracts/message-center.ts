import { z } from "zod";
import { Limit } from "./customers.ts";

export const IN_APP_STATES = ["unread", "read", "archived", "deleted"] as const;
export const InAppState = z.enum(IN_APP_STATES);
export type InAppState = z.infer<typeof InAppState>;

/** One message of a customer's in-app message center, as the brand's app sees it. */
export const InAppMessage = z.object({
  id: z.uuid(),
  title: z.string().nullable(),
  body: z.string(),
  data: z.record(z.string(), z.string()),
  state: InAppState,
  createdAt: z.string(),
  readAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
export type InAppMessage = z.infer<typeof InAppMessage>;

/** The same message for agents: which delivery put it there and whose it is. */
export const AgentInAppMessage = InAppMessage.extend({
  customerId: z.uuid(),
  deliveryId: z.uuid(),
  expired: z.boolean(),
});
export type AgentInAppMessage = z.infer<typeof AgentInAppMessage>;

/** What an app may list: its inbox (unread and read, the default), or one state of it. */
export const AppListQuery = z.object({
  state: z
    .enum(["unread", "read", "archived"])
    .optional()
    .describe("Absent: the inbox (unread and read). Deleted and expired messages never show."),
  limit: Limit,
  cursor: z.string().optional(),
});

/** What an agent may list: every message, or one state, expired ones included. */
export const AgentListQuery = z.object({
  state: InAppState.optional(),
  limit: Limit,
  cursor: z.string().optional(),
});

export const UnreadCount = z.object({ unread: z.number().int().min(0) });

/**
 * What an app stream (`GET /api/v1/app/messages/stream`, and the bus topic
 * `app:<workspaceId>:<customerId>`) carries: a new message (or, when it is too large for the
 * bus, its id to fetch), and state changes made on another device.
 */
export const AppStreamEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), message: InAppMessage }),
  z.object({ type: z.literal("message_ref"), id: z.uuid() }),
  z.object({
    type: z.literal("updated"),
    id: z.uuid(),
    state: InAppState,
    readAt: z.string().nullable(),
  }),
]);
export type AppStreamEvent = z.infer<typeof AppStreamEvent>;

/** The realtime topic of one customer's app streams. */
export function appTopic(workspaceId: string, customerId: string): string {
  return `app:${workspaceId}:${customerId}`;
}
