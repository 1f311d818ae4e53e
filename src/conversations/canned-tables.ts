import { sql } from "drizzle-orm";
import { pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tz } from "../db/columns.ts";

/**
 * A saved reply agents insert in the composer by its shortcut (`/refund-delay`): a Liquid body
 * rendered with the conversation's customer and the agent before it is inserted.
 */
export const cannedResponses = pgTable(
  "canned_responses",
  {
    workspaceId: uuid("workspace_id").notNull(),
    id: uuid("id").notNull(),
    /** What agents type after `/`; unique in a workspace whatever its case. */
    shortcut: text("shortcut").notNull(),
    title: text("title").notNull(),
    /** Liquid source, plain text: `{{ customer.first_name }}`, `{{ agent.name }}`. */
    body: text("body").notNull(),
    createdBy: uuid("created_by"),
    updatedBy: uuid("updated_by"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex("canned_responses_shortcut_key").on(t.workspaceId, sql`lower(${t.shortcut})`),
  ],
);
