import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { messagingSettings } from "./tables.ts";

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
  await db
    .insert(messagingSettings)
    .values({
      workspaceId,
      linkSecret: randomBytes(32).toString("base64url"),
      identitySecret: randomBytes(32).toString("base64url"),
    })
    .onConflictDoNothing();
  const [created] = await db
    .select()
    .from(messagingSettings)
    .where(eq(messagingSettings.workspaceId, workspaceId));
  if (!created) throw new Error("messaging settings vanished after insert");
  return created;
}
