import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { Channel } from "../consent/tables.ts";
import { tz } from "../db/columns.ts";

export const DELIVERY_STATES = [
  "skipped",
  "deferred",
  "queued",
  "sending",
  "sent",
  "delivered",
  "failed",
  "bounced",
  "opened",
  "clicked",
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** What a provider is given to send, rendered for one channel. */
/** A file of the workspace's attachment store, as a message carries it. */
export type FileRef = { key: string; name: string; contentType: string; size: number };

export type RenderedContent = {
  subject?: string;
  html?: string;
  /** The plain-text body: the SMS text, the email's text part, the push body. */
  text: string;
  /** Push and in-app title. */
  title?: string;
  /** Extra key/values (push data, in-app payload). */
  data?: Record<string, string>;
  mediaUrls?: string[];
  /** Email: files of the attachment store sent as MIME attachments (read when the message is sent). */
  attachments?: FileRef[];
  /** Email: addresses copied on the message (Cc). */
  cc?: string[];
  /** Extra email headers (List-Unsubscribe…), decided when the message is rendered. */
  headers?: Record<string, string>;
};

/** Why the Gate decided what it did, kept on the row for agents and the API. */
export type GateRecord = {
  action: "send" | "defer" | "skip";
  reason?: string;
  details?: Record<string, unknown>;
};

/**
 * The delivery ledger: one row per message Rapport meant to send, written (with the job that
 * sends it) before any provider is called. Skipped and deferred messages are rows too, so
 * a customer's timeline shows what was not sent and why.
 */
export const deliveries = pgTable(
  "deliveries",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    customerId: uuid("customer_id").notNull(),
    /** NULL when the Gate found no channel to use. */
    channel: text("channel").$type<Channel>(),
    topicId: uuid("topic_id").notNull(),
    /** Copied from the topic when written, so the row says whether it was exempt. */
    kind: text("kind", { enum: ["marketing", "transactional"] }).notNull(),
    templateId: uuid("template_id"),
    language: text("language"),
    /** The destination: an email address, an E.164 number, a device token, a PSID… */
    address: text("address"),
    content: jsonb("content").$type<RenderedContent | null>(),
    /** What the caller asked to send (template key and data, or content), to render later. */
    request: jsonb("request").$type<Record<string, unknown>>().notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    /** sha256 of the request, so a replayed key with another body is refused. */
    requestHash: text("request_hash").notNull(),
    state: text("state").$type<DeliveryState>().notNull(),
    gate: jsonb("gate").$type<GateRecord>().notNull(),
    deferredUntil: tz("deferred_until"),
    provider: text("provider"),
    providerMessageId: text("provider_message_id"),
    attempts: integer("attempts").notNull().default(0),
    error: jsonb("error").$type<{ reason: string; retryable?: boolean } | null>(),
    /** When this marketing message started to count toward frequency caps (queued to send). */
    countedAt: tz("counted_at"),
    /** Who asked: "api", "agent", "journey", "status"… and their reference. */
    source: text("source").notNull(),
    sourceRef: text("source_ref"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
    sentAt: tz("sent_at"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("deliveries_idempotency_key").on(t.workspaceId, t.idempotencyKey),
    index("deliveries_customer_idx").on(t.workspaceId, t.customerId, t.createdAt.desc()),
    index("deliveries_caps_idx")
      .on(t.workspaceId, t.customerId, t.countedAt)
      .where(sql`${t.countedAt} IS NOT NULL`),
    index("deliveries_provider_message_idx")
      .on(t.workspaceId, t.provider, t.providerMessageId)
      .where(sql`${t.providerMessageId} IS NOT NULL`),
    // an email reply or bounce names only the Message-ID: found before its workspace is known
    index("deliveries_any_provider_message_idx")
      .on(t.provider, t.providerMessageId)
      .where(sql`${t.providerMessageId} IS NOT NULL`),
  ],
);

/** Every change of a delivery's state (attempts, provider callbacks), oldest first. */
export const deliveryEvents = pgTable(
  "delivery_events",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    deliveryId: uuid("delivery_id").notNull(),
    state: text("state").$type<DeliveryState>().notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("delivery_events_delivery_idx").on(t.workspaceId, t.deliveryId, t.createdAt),
  ],
);

export const PROVIDER_KINDS = ["sandbox", "smtp", "twilio", "fcm", "in_app"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Which provider sends a workspace's messages on a channel, and its settings (secrets included). */
export const deliveryProviders = pgTable(
  "delivery_providers",
  {
    workspaceId: uuid("workspace_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    kind: text("kind").$type<ProviderKind>().notNull(),
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channel] })],
);

/** One language's version of a template; Liquid in every field. */
export type TemplateVariant = {
  subject?: string;
  /** Email: MJML (or plain HTML); other channels ignore it. */
  body?: string;
  /** The text: SMS, push body, in-app body, email text part (derived from the body when absent). */
  text?: string;
  title?: string;
};

/** A message template: variants per language, chosen by the customer's language. */
export const templates = pgTable(
  "templates",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    /** The channel it is written for; NULL fits any (text-only) channel. */
    channel: text("channel").$type<Channel>(),
    /** The topic used when a send does not name one. */
    topicId: uuid("topic_id"),
    variants: jsonb("variants").$type<Record<string, TemplateVariant>>().notNull(),
    defaultLanguage: text("default_language").notNull().default("en"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("templates_key_key").on(t.workspaceId, t.key),
  ],
);

/** The in-app message center: messages kept per customer until they expire or are deleted. */
export const inAppMessages = pgTable(
  "in_app_messages",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    customerId: uuid("customer_id").notNull(),
    deliveryId: uuid("delivery_id").notNull(),
    title: text("title"),
    body: text("body").notNull(),
    data: jsonb("data").$type<Record<string, string>>().notNull().default({}),
    state: text("state", { enum: ["unread", "read", "archived", "deleted"] })
      .notNull()
      .default("unread"),
    expiresAt: tz("expires_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
    readAt: tz("read_at"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("in_app_messages_delivery_key").on(t.workspaceId, t.deliveryId),
    index("in_app_messages_customer_idx").on(t.workspaceId, t.customerId, t.createdAt.desc()),
  ],
);

/** A brand's endpoint for outbound webhooks (Standard Webhooks), and what it wants to hear. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    /** `whsec_` + base64 key, shown to admins; needed in clear to sign. */
    secret: text("secret").notNull(),
    /** Event types to send (`delivery.sent`…); empty for all. */
    eventTypes: jsonb("event_types").$type<string[]>().notNull().default([]),
    /** Hosts an admin explicitly allowed although they resolve to private addresses. */
    allowPrivate: boolean("allow_private").notNull().default(false),
    disabledAt: tz("disabled_at"),
    disabledReason: text("disabled_reason"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

/** One event to deliver to one endpoint, with its attempts so far. */
export const webhookMessages = pgTable(
  "webhook_messages",
  {
    workspaceId: uuid("workspace_id").notNull(),
    /** Also the `webhook-id` header: stable across retries, so receivers can dedupe. */
    id: text("id").notNull(),
    endpointId: uuid("endpoint_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    state: text("state", { enum: ["pending", "succeeded", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("webhook_messages_endpoint_idx").on(t.workspaceId, t.endpointId, t.createdAt.desc()),
  ],
);
