import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A tenant. Its id is the `workspace_id` that leads every other key in the schema. */
export const workspaces = pgTable(
  "workspaces",
  {
    id: uuid("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("workspaces_slug_key").on(t.slug)],
);

export const users = pgTable(
  "users",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    email: text("email").notNull(),
    name: text("name").notNull().default(""),
    role: text("role", { enum: ["owner", "admin", "agent"] }).notNull(),
    status: text("status", { enum: ["active", "invited", "disabled"] }).notNull(),
    passwordHash: text("password_hash"),
    /** The language of the agent's screens ("en", "fr"); NULL follows the browser. */
    locale: text("locale").$type<"en" | "fr">(),
    createdAt: createdAt(),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("users_workspace_email_key").on(t.workspaceId, t.email),
    // sign-in by email alone looks across workspaces
    index("users_email_idx").on(t.email),
  ],
);

export const sessions = pgTable(
  "sessions",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    userId: uuid("user_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("sessions_token_key").on(t.workspaceId, t.tokenHash),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    kind: text("kind", { enum: ["write", "secret"] }).notNull(),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The first characters of the key, shown in lists so people can tell keys apart. */
    hint: text("hint").notNull(),
    createdBy: uuid("created_by"),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("api_keys_token_key").on(t.workspaceId, t.tokenHash),
  ],
);

/** Sign-in links and invitations: single use, expiring, stored hashed. */
export const oneTimeTokens = pgTable(
  "one_time_tokens",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    purpose: text("purpose", { enum: ["sign_in", "invite"] }).notNull(),
    userId: uuid("user_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("one_time_tokens_token_key").on(t.workspaceId, t.tokenHash),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    actorKind: text("actor_kind", { enum: ["user", "api_key", "system"] }).notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetKind: text("target_kind"),
    targetId: text("target_id"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    ip: text("ip"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("audit_log_time_idx").on(t.workspaceId, t.createdAt.desc()),
  ],
);
