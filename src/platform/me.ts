import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { recordAudit } from "./audit.ts";
import { users } from "./tables.ts";
import { toUser, type User } from "./users.ts";

/** The languages the agent's screens speak. */
export const LOCALES = ["en", "fr"] as const;
export type Locale = (typeof LOCALES)[number];

export const ProfilePatch = z.object({
  locale: z
    .string()
    .nullable()
    .optional()
    .describe(`The language of your screens: ${LOCALES.join(" or ")}; null follows the browser.`),
  name: z.string().optional().describe("Your name as teammates and customers see it: 1 to 200 characters."),
});
export type ProfilePatch = z.infer<typeof ProfilePatch>;

function isLocale(v: string): v is Locale {
  return LOCALES.some((l) => l === v);
}

/**
 * Changes the signed-in user's own language and name (nobody else's: managing users is
 * `updateUser`). Refuses an unknown language (`users.invalid_locale`) or an empty name
 * (`users.invalid_name`) before writing anything.
 */
export async function updateOwnProfile(
  db: Db,
  me: { workspaceId: string; userId: string; ip?: string | null },
  patch: ProfilePatch,
): Promise<User> {
  const set: { locale?: Locale | null; name?: string } = {};
  if (patch.locale !== undefined) {
    if (patch.locale !== null && !isLocale(patch.locale)) {
      throw new AppError(
        "users.invalid_locale",
        `locale: "${patch.locale}" is not a language of Rapport; use ${LOCALES.join(" or ")}, or null to follow the browser.`,
        { locale: patch.locale, allowed: [...LOCALES] },
      );
    }
    set.locale = patch.locale;
  }
  if (patch.name !== undefined) {
    const name = patch.name.trim();
    if (name.length === 0 || name.length > 200) {
      throw new AppError("users.invalid_name", "name: give 1 to 200 characters.", { field: "name" });
    }
    set.name = name;
  }
  if (Object.keys(set).length === 0) {
    throw new AppError("users.invalid_profile", "Send `locale`, `name`, or both.");
  }
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set(set)
      .where(and(eq(users.workspaceId, me.workspaceId), eq(users.id, me.userId)))
      .returning();
    if (!row) throw new AppError("auth.unauthorized", "The user of this session no longer exists.");
    await recordAudit(tx, {
      workspaceId: me.workspaceId,
      actor: { kind: "user", id: me.userId },
      action: "user.profile_updated",
      target: { kind: "user", id: me.userId },
      details: { ...set },
      ip: me.ip ?? null,
    });
    return toUser(row);
  });
}
