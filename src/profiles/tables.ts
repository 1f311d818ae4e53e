import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tz } from "../db/columns.ts";

export type Traits = Record<string, unknown>;
/** For each trait, the time of the event that set it (ISO string): older events never overwrite newer values. */
export type TraitTimes = Record<string, string>;

/**
 * One person. A merged customer keeps its row with `merged_into` pointing at the survivor
 * (always one hop: merges re-point earlier losers), so old ids keep resolving.
 */
export const customers = pgTable(
  "customers",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    mergedInto: uuid("merged_into"),
    traits: jsonb("traits").$type<Traits>().notNull().default({}),
    traitTimes: jsonb("trait_times").$type<TraitTimes>().notNull().default({}),
    firstSeenAt: tz("first_seen_at").notNull(),
    lastSeenAt: tz("last_seen_at").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("customers_merged_into_idx")
      .on(t.workspaceId, t.mergedInto)
      .where(sql`${t.mergedInto} IS NOT NULL`),
    index("customers_list_idx")
      .on(t.workspaceId, t.createdAt.desc(), t.id.desc())
      .where(sql`${t.mergedInto} IS NULL`),
    index("customers_traits_idx").using("gin", t.traits.op("jsonb_path_ops")),
  ],
);

/** An identifier of a person on some channel; each resolves to exactly one customer. */
export const identities = pgTable(
  "identities",
  {
    workspaceId: uuid("workspace_id").notNull(),
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    customerId: uuid("customer_id").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.kind, t.value] }),
    index("identities_customer_idx").on(t.workspaceId, t.customerId),
  ],
);

export const events = pgTable(
  "events",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    customerId: uuid("customer_id").notNull(),
    type: text("type", { enum: ["identify", "track", "page", "screen", "group", "alias"] }).notNull(),
    name: text("name"),
    messageId: text("message_id").notNull(),
    userId: text("user_id"),
    anonymousId: text("anonymous_id"),
    properties: jsonb("properties").$type<Record<string, unknown>>().notNull().default({}),
    traits: jsonb("traits").$type<Traits>(),
    context: jsonb("context").$type<Record<string, unknown>>().notNull().default({}),
    timestamp: tz("timestamp").notNull(),
    receivedAt: tz("received_at").notNull(),
    sentAt: tz("sent_at"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("events_message_id_key").on(t.workspaceId, t.messageId),
    index("events_timeline_idx").on(t.workspaceId, t.customerId, t.timestamp.desc(), t.id.desc()),
  ],
);

/** Every merge, kept for ever: who survived, who was merged, why, and on what evidence. */
export const customerMerges = pgTable(
  "customer_merges",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    survivorId: uuid("survivor_id").notNull(),
    mergedId: uuid("merged_id").notNull(),
    reason: text("reason").notNull(),
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull().default({}),
    actor: text("actor").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("customer_merges_survivor_idx").on(t.workspaceId, t.survivorId),
    index("customer_merges_merged_idx").on(t.workspaceId, t.mergedId),
  ],
);

/** A merge that was not done because it would join two different external user ids. */
export const identityConflicts = pgTable(
  "identity_conflicts",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    customerId: uuid("customer_id").notNull(),
    otherCustomerId: uuid("other_customer_id").notNull(),
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    reason: text("reason").notNull(),
    messageId: text("message_id"),
    createdAt: tz("created_at").notNull().defaultNow(),
    resolvedAt: tz("resolved_at"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("identity_conflicts_open_idx")
      .on(t.workspaceId, t.createdAt.desc())
      .where(sql`${t.resolvedAt} IS NULL`),
  ],
);

/** Accounts or companies (Segment `group`). */
export const groups = pgTable(
  "groups",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: text("id").notNull(),
    traits: jsonb("traits").$type<Traits>().notNull().default({}),
    traitTimes: jsonb("trait_times").$type<TraitTimes>().notNull().default({}),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

export const groupMemberships = pgTable(
  "group_memberships",
  {
    workspaceId: uuid("workspace_id").notNull(),
    groupId: text("group_id").notNull(),
    customerId: uuid("customer_id").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.groupId, t.customerId] }),
    index("group_memberships_customer_idx").on(t.workspaceId, t.customerId),
  ],
);

/**
 * Accepted ingestion batches waiting to be resolved into customers and events: the HTTP
 * request writes one row (and its job) and answers; workers fold many rows at a time into
 * the events table, deleting them in the same transaction.
 */
export const ingestBatches = pgTable(
  "ingest_batches",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    /** The accepted events as JSON text: written and read only by Rapport, so PostgreSQL need not parse it. */
    events: text("events").notNull(),
    eventCount: integer("event_count").notNull(),
    receivedAt: tz("received_at").notNull(),
    sentAt: tz("sent_at"),
    /** While set and in the future, a worker is folding this batch in. */
    claimedUntil: tz("claimed_until"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);
