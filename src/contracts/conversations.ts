import { z } from "zod";
import { CHANNELS } from "../consent/tables.ts";
import { CONVERSATION_STATUSES, PRIORITIES } from "../conversations/tables.ts";

/**
 * The post a Messenger or Instagram comment conversation belongs to, read from the Graph API
 * after the first comment. Its text is the brand's post as written, untrusted: show it as text.
 */
export const ConversationPost = z
  .object({
    id: z.string().describe("The post's (Facebook) or media's (Instagram) id."),
    text: z.string().nullable().describe("Facebook `message`, Instagram `caption`."),
    permalinkUrl: z.string().nullable(),
    mediaUrl: z
      .string()
      .nullable()
      .describe(
        "Meta's picture URL: it expires, so it is a display hint, loaded by the viewer's browser only.",
      ),
    postedAt: z.string().nullable(),
    status: z
      .enum(["ready", "pending", "unavailable"])
      .describe("pending: being read; unavailable: Meta would not give it (deleted, no permission)."),
  })
  .describe("The post a comment conversation belongs to.");
export type ConversationPost = z.infer<typeof ConversationPost>;

/** One conversation as `GET /api/v1/conversations/:id` answers it. */
export const Conversation = z.object({
  id: z.uuid(),
  number: z.number().int(),
  inboxId: z.uuid(),
  customerId: z.uuid(),
  channel: z.enum(CHANNELS).nullable(),
  contactAddress: z.string().nullable(),
  subject: z.string().nullable(),
  status: z.enum(CONVERSATION_STATUSES),
  snoozedUntil: z.string().nullable(),
  priority: z.enum(PRIORITIES),
  assigneeId: z.uuid().nullable(),
  teamId: z.uuid().nullable(),
  labels: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  source: z.record(z.string(), z.unknown()),
  mergedIntoId: z.uuid().nullable(),
  firstResponseAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  lastMessageAt: z.string(),
  lastCustomerMessageAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  unread: z.boolean().describe("The customer wrote since the signed-in agent last read it."),
  post: ConversationPost.nullable().describe("The post of a comment conversation; null for every other one."),
});
