import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { Channel } from "../consent/tables.ts";
import { tz } from "../db/columns.ts";

export const INBOX_KINDS = [
  "email",
  "sms",
  "whatsapp",
  "messenger",
  "instagram",
  "x",
  "chat",
  "voice",
  "api",
] as const;
export type InboxKind = (typeof INBOX_KINDS)[number];

/**
 * One configured channel instance of a workspace (a support address, a Twilio number, a
 * Facebook page, the chat widget, an API source): where conversations come in, and what
 * replies go out through.
 */
export const inboxes = pgTable(
  "inboxes",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    kind: text("kind").$type<InboxKind>().notNull(),
    name: text("name").notNull(),
    /** The channel replies go out on. */
    channel: text("channel").$type<Channel>(),
    /** The inbox's own address (an E.164 number, an email address, a page id), when it has one. */
    address: text("address"),
    /** Provider settings, secrets included (auth tokens, app secrets, verify tokens). */
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    assignment: text("assignment", { enum: ["manual", "round_robin", "least_loaded"] })
      .notNull()
      .default("manual"),
    /** Whose conversations these are: automatic assignment picks among this team's agents. */
    teamId: uuid("team_id"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("inboxes_address_idx").on(t.workspaceId, t.kind, t.address),
    // inbound mail is routed by its recipient before the workspace is known
    index("inboxes_any_address_idx").on(t.kind, sql`lower(${t.address})`),
  ],
);

export const CONVERSATION_STATUSES = ["open", "pending", "snoozed", "resolved"] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const PRIORITIES = ["none", "low", "medium", "high", "urgent"] as const;

/** Where a conversation began: the contact point that led the customer here. */
export type ConversationSource = {
  pageUrl?: string;
  referrer?: string;
  smartLink?: string;
  utm?: Record<string, string>;
};

/** One exchange with a customer on one inbox, from the first message until resolved (and reopened). */
export const conversations = pgTable(
  "conversations",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    /** Shown to agents (#1042), counted per workspace. */
    number: integer("number").notNull(),
    inboxId: uuid("inbox_id").notNull(),
    customerId: uuid("customer_id").notNull(),
    channel: text("channel").$type<Channel>(),
    /** The customer's address this conversation came from, where replies go. */
    contactAddress: text("contact_address"),
    /** What keeps a channel's thread apart (an email thread, a social post's comments). */
    threadKey: text("thread_key"),
    subject: text("subject"),
    status: text("status").$type<ConversationStatus>().notNull().default("open"),
    snoozedUntil: tz("snoozed_until"),
    priority: text("priority").$type<(typeof PRIORITIES)[number]>().notNull().default("none"),
    assigneeId: uuid("assignee_id"),
    teamId: uuid("team_id"),
    labels: jsonb("labels").$type<string[]>().notNull().default([]),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default({}),
    source: jsonb("source").$type<ConversationSource>().notNull().default({}),
    /** Set when this conversation was merged into another: its messages moved there. */
    mergedIntoId: uuid("merged_into_id"),
    firstResponseAt: tz("first_response_at"),
    resolvedAt: tz("resolved_at"),
    lastMessageAt: tz("last_message_at").notNull(),
    lastCustomerMessageAt: tz("last_customer_message_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("conversations_number_key").on(t.workspaceId, t.number),
    index("conversations_customer_idx").on(t.workspaceId, t.customerId, t.lastMessageAt.desc()),
    index("conversations_status_idx").on(t.workspaceId, t.status, t.lastMessageAt.desc()),
    index("conversations_thread_idx")
      .on(t.workspaceId, t.inboxId, t.threadKey)
      .where(sql`${t.threadKey} IS NOT NULL`),
    index("conversations_assignee_idx").on(t.workspaceId, t.assigneeId, t.status),
    // a reply+<token> address names the conversation alone
    index("conversations_id_idx").on(t.id),
    // the wake-up sweep looks across workspaces for snoozes that are over
    index("conversations_snoozed_idx").on(t.snoozedUntil).where(sql`${t.status} = 'snoozed'`),
  ],
);

/** A file that came with (or went with) a message, kept by the attachment store. */
export type Attachment = { key: string; name: string; contentType: string; size: number; url?: string };

/** A message of a conversation: the customer's, an agent's reply, a private note, an activity. */
export const conversationMessages = pgTable(
  "conversation_messages",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    inboxId: uuid("inbox_id").notNull(),
    direction: text("direction", { enum: ["inbound", "outbound"] }).notNull(),
    kind: text("kind", { enum: ["message", "note", "activity", "call"] })
      .notNull()
      .default("message"),
    /** A user (agent) for outbound messages and notes; NULL for the customer and the system. */
    authorId: uuid("author_id"),
    text: text("text").notNull().default(""),
    /** Sanitised HTML, for channels that have it (email). */
    html: text("html"),
    attachments: jsonb("attachments").$type<Attachment[]>().notNull().default([]),
    /** The provider's id of an inbound message (MessageSid, email Message-ID…): stored once. */
    providerMessageId: text("provider_message_id"),
    /** The delivery that carries an outbound message. */
    deliveryId: uuid("delivery_id"),
    /** Channel details: email headers, the social post, the call's duration and recording… */
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("conversation_messages_conversation_idx").on(t.workspaceId, t.conversationId, t.createdAt),
    uniqueIndex("conversation_messages_provider_key")
      .on(t.workspaceId, t.inboxId, t.providerMessageId)
      .where(sql`${t.providerMessageId} IS NOT NULL`),
    // a delivery's news finds the message it carries
    index("conversation_messages_delivery_idx")
      .on(t.workspaceId, t.deliveryId)
      .where(sql`${t.deliveryId} IS NOT NULL`),
  ],
);

/** The next display number of each workspace's conversations. */
export const conversationCounters = pgTable("conversation_counters", {
  workspaceId: uuid("workspace_id").primaryKey(),
  next: integer("next").notNull(),
});

/** A group of agents (billing, VIP care…) that inboxes and conversations can belong to. */
export const teams = pgTable(
  "teams",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    name: text("name").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("teams_name_key").on(t.workspaceId, t.name),
  ],
);

export const teamMembers = pgTable(
  "team_members",
  {
    workspaceId: uuid("workspace_id").notNull(),
    teamId: uuid("team_id").notNull(),
    userId: uuid("user_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.teamId, t.userId] })],
);

/** Whether an agent takes new conversations now, and when they last got one (round robin). */
export const agentAvailability = pgTable(
  "agent_availability",
  {
    workspaceId: uuid("workspace_id").notNull(),
    userId: uuid("user_id").notNull(),
    status: text("status", { enum: ["online", "busy", "offline"] })
      .notNull()
      .default("offline"),
    lastAssignedAt: tz("last_assigned_at"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] })],
);

/** An agent named in a private note (`@name`): what their "mentions" view lists until read. */
export const conversationMentions = pgTable(
  "conversation_mentions",
  {
    workspaceId: uuid("workspace_id").notNull(),
    userId: uuid("user_id").notNull(),
    messageId: uuid("message_id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    /** Who wrote the note. */
    authorId: uuid("author_id"),
    readAt: tz("read_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId, t.messageId] }),
    index("conversation_mentions_user_idx").on(t.workspaceId, t.userId, t.createdAt.desc()),
  ],
);

/** When each agent last read each conversation: what makes a conversation unread for them. */
export const conversationReads = pgTable(
  "conversation_reads",
  {
    workspaceId: uuid("workspace_id").notNull(),
    userId: uuid("user_id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    lastReadAt: tz("last_read_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId, t.conversationId] })],
);

/**
 * The post or media a comment conversation belongs to (thread `comments:<external id>`), read
 * from the provider after the first comment: Meta's comment webhooks carry no post text. A
 * row is written with the comment that first names the post (pending: `fetched_at` NULL) and
 * completed by the fetch; `last_error` says why a fetched post could not be read. The media
 * URL is the provider's, kept as a display hint only (it expires), never fetched by Rapport.
 */
export const socialPosts = pgTable(
  "social_posts",
  {
    workspaceId: uuid("workspace_id").notNull(),
    inboxId: uuid("inbox_id").notNull(),
    /** The provider's id: a Facebook post id (`<page>_<post>`) or an Instagram media id. */
    externalId: text("external_id").notNull(),
    /** What the post says (Facebook `message`, Instagram `caption`): untrusted, shown as text. */
    text: text("text"),
    permalinkUrl: text("permalink_url"),
    mediaUrl: text("media_url"),
    postedAt: tz("posted_at"),
    /** When the provider last answered for good (the post, or why it cannot be read). */
    fetchedAt: tz("fetched_at"),
    lastError: text("last_error"),
    /** Calls made to the provider for this post. */
    attempts: integer("attempts").notNull().default(0),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.inboxId, t.externalId] })],
);
