import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { messagingSettings } from "./tables.ts";
import { ensureDefaultTopics } from "./topics.ts";

export type MessagingSettings = typeof messagingSettings.$inferSelect;

/**
 * A workspace's messaging rules and secrets. The row is created on first use with fresh
 * secrets; concurrent first uses agree on one row.
 */
export async function getMessagingSettings(db: Db, workspaceId: string): Promise<MessagingSettings> {
  const [found] = await db
    .select()
    .from(messagingSettings)
    .where(eq(messagingSettings.workspaceId, workspaceId));
  if (found) return found;
  const inserted = await db
    .insert(messagingSettings)
    .values({
      workspaceId,
      linkSecret: randomBytes(32).toString("base64url"),
      identitySecret: randomBytes(32).toString("base64url"),
    })
    .onConflictDoNothing()
    .returning({ workspaceId: messagingSettings.workspaceId });
  // the workspace's first use of messaging: give it the starter topics too
  if (inserted.length > 0) await ensureDefaultTopics(db, workspaceId);
  const [created] = await db
    .select()
    .from(messagingSettings)
    .where(eq(messagingSettings.workspaceId, workspaceId));
  if (!created) throw new Error("messaging settings vanished after insert");
  return created;
}
