import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tz } from "../db/columns.ts";

/**
 * The channels Rapport reaches customers on. Webhooks are not among them: they reach the
 * brand's own systems, not a person.
 */
export const CHANNELS = [
  "email",
  "sms",
  "whatsapp",
  "push",
  "in_app",
  "messenger",
  "instagram",
  "x",
] as const;
export type Channel = (typeof CHANNELS)[number];

/** How a marketing topic starts on a channel before the customer says anything. */
export type DefaultConsent = "opt_in" | "opt_out";

/**
 * What a message is about. Marketing topics need consent (and count toward caps);
 * transactional ones (a receipt, an outage notice) are exempt from marketing consent, caps,
 * quiet hours and pauses, never from a hard suppression.
 */
export const topics = pgTable(
  "topics",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    /** Stable handle used by the API and templates (`promotions`, `service-status`). */
    key: text("key").notNull(),
    /** Display names per language, `{ en: "Promotions", fr: "Promotions" }`. */
    names: jsonb("names").$type<Record<string, string>>().notNull(),
    descriptions: jsonb("descriptions").$type<Record<string, string>>().notNull().default({}),
    kind: text("kind", { enum: ["marketing", "transactional"] }).notNull(),
    /**
     * Per channel, whether a customer who said nothing is subscribed (`opt_out`: until they
     * opt out) or not (`opt_in`: only once they opt in). Channels absent here are `opt_in`.
     * Countries listed in the workspace's `optInCountries` are always `opt_in`.
     */
    defaults: jsonb("defaults").$type<Partial<Record<Channel, DefaultConsent>>>().notNull().default({}),
    /** Shown in the preference center (a topic can be internal only). */
    visible: boolean("visible").notNull().default(true),
    archivedAt: tz("archived_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("topics_key_key").on(t.workspaceId, t.key),
  ],
);

export const CONSENT_SOURCES = [
  "preference_center",
  "in_app",
  "api",
  "one_click",
  "sms_keyword",
  "agent",
  "import",
] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Evidence kept with a consent change: who asked, from where, in answer to what. */
export type ConsentProof = {
  ip?: string;
  userAgent?: string;
  /** The delivery whose link or header the customer used. */
  deliveryId?: string;
  /** The provider's id of the inbound message (an SMS STOP) or of the sent message. */
  messageId?: string;
  /** The keyword of an SMS (STOP, START…). */
  keyword?: string;
  /** A user or an API key, for changes made on the customer's behalf. */
  actorId?: string;
  note?: string;
};

/**
 * The consent ledger: append-only, one row per change a customer (or someone on their
 * behalf) made. `topic_id` NULL means every topic of the channel. The current state
 * (`consent_states`) is derived from it in the same transaction.
 */
export const consentLedger = pgTable(
  "consent_ledger",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    customerId: uuid("customer_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    topicId: uuid("topic_id"),
    status: text("status", { enum: ["subscribed", "unsubscribed"] }).notNull(),
    source: text("source").$type<ConsentSource>().notNull(),
    proof: jsonb("proof").$type<ConsentProof>().notNull().default({}),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("consent_ledger_customer_idx").on(t.workspaceId, t.customerId, t.createdAt.desc()),
  ],
);

/**
 * The latest ledger entry per customer × channel × topic (topic '*' for the whole channel),
 * kept in step with the ledger so the Gate reads one small row set per send.
 */
export const consentStates = pgTable(
  "consent_states",
  {
    workspaceId: uuid("workspace_id").notNull(),
    customerId: uuid("customer_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    /** A topic id, or '*' for every topic of the channel. */
    topic: text("topic").notNull(),
    status: text("status", { enum: ["subscribed", "unsubscribed"] }).notNull(),
    ledgerId: uuid("ledger_id").notNull(),
    updatedAt: tz("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.customerId, t.channel, t.topic] })],
);

export const SUPPRESSION_REASONS = [
  "hard_bounce",
  "spam_complaint",
  "invalid_number",
  "sms_stop",
  "erased",
  "manual",
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * Destinations nothing may be sent to, transactional or not. Keyed by a hash of the
 * normalised address so an erased customer's address is kept only as a hash; `address` is
 * the clear value for everyone else (shown to agents).
 */
export const suppressions = pgTable(
  "suppressions",
  {
    workspaceId: uuid("workspace_id").notNull(),
    channel: text("channel").$type<Channel>().notNull(),
    /** sha256 hex of the normalised address (`addressHash`). */
    addressHash: text("address_hash").notNull(),
    address: text("address"),
    reason: text("reason").$type<SuppressionReason>().notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.channel, t.addressHash] })],
);

/** Quiet hours as local wall-clock times, "21:00" to "08:00" (may cross midnight). */
export type QuietHours = { start: string; end: string };

/** What a customer chose about being contacted, besides consent per channel and topic. */
export const customerPreferences = pgTable(
  "customer_preferences",
  {
    workspaceId: uuid("workspace_id").notNull(),
    customerId: uuid("customer_id").notNull(),
    /** IANA time zone; when NULL, the Gate derives one (traits, phone, workspace default). */
    timezone: text("timezone"),
    language: text("language"),
    quietHours: jsonb("quiet_hours").$type<QuietHours | null>(),
    /** Marketing is held until then (a "pause for a while"). */
    pausedUntil: tz("paused_until"),
    /** Channels in the order the customer prefers them. */
    channelOrder: jsonb("channel_order").$type<Channel[]>().notNull().default([]),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.customerId] })],
);

/** A zero-party question of the preference center; answers land as a trait named `key`. */
export type PreferenceQuestion = {
  key: string;
  /** Per language. */
  labels: Record<string, string>;
  options: Array<{ value: string; labels: Record<string, string> }>;
  multiple: boolean;
};

/** A frequency cap: at most `limit` marketing messages per window, on one channel or all. */
export type FrequencyCap = { channel: Channel | "*"; window: "day" | "week"; limit: number };

/**
 * A workspace's messaging rules and secrets. `link_secret` signs preference-center links
 * and never leaves the server; `identity_secret` is shown to admins so the brand's app
 * backend can sign its users' ids (HMAC) for the in-app preference API and the widget.
 */
export const messagingSettings = pgTable("messaging_settings", {
  workspaceId: uuid("workspace_id").primaryKey(),
  defaultTimezone: text("default_timezone").notNull().default("UTC"),
  defaultLanguage: text("default_language").notNull().default("en"),
  /** Channels to try, in order, when neither the message nor the customer picks one. */
  fallbackOrder: jsonb("fallback_order")
    .$type<Channel[]>()
    .notNull()
    .default(sql`'["email","push","in_app","sms","whatsapp"]'::jsonb`),
  caps: jsonb("caps").$type<FrequencyCap[]>().notNull().default([]),
  /** ISO countries where every marketing topic is opt-in on every channel (GDPR, CASL…). */
  optInCountries: jsonb("opt_in_countries").$type<string[]>().notNull().default([]),
  /** Quiet hours applied to customers who set none; NULL for none. */
  defaultQuietHours: jsonb("default_quiet_hours").$type<QuietHours | null>(),
  questions: jsonb("questions").$type<PreferenceQuestion[]>().notNull().default([]),
  linkSecret: text("link_secret").notNull(),
  identitySecret: text("identity_secret").notNull(),
  updatedAt: tz("updated_at").notNull().defaultNow(),
});
