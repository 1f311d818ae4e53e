import { and, eq } from "drizzle-orm";
import { type Preferences, QuietHours as QuietHoursSchema } from "../contracts/consent.ts";
import type { Db } from "../db/client.ts";
import { AppError, isAppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { type Customer, getCustomer } from "../profiles/customers.ts";
import { validTimezone } from "./customer-facts.ts";
import { getMessagingSettings, type MessagingSettings } from "./settings.ts";
import { CHANNELS, type Channel, customerPreferences, type QuietHours } from "./tables.ts";

/** Languages the customer-facing pages are written in. */
export const PAGE_LANGUAGES = ["en", "fr"] as const;

/** A change of preferences after validation: absent keeps, null clears. */
export type PreferencesChange = {
  timezone?: string | null;
  language?: string | null;
  quietHours?: QuietHours | null;
  pausedUntil?: Date | null;
  channelOrder?: Channel[];
};

const MAX_PAUSE_MS = 366 * 24 * 3600 * 1000;

/**
 * Languages a customer may choose: those Rapport's pages speak (en, fr) and the workspace's
 * default language. Tags are kept by their base language (`fr-CA` → `fr`), which is what
 * templates are written per.
 */
export function allowedLanguages(settings: Pick<MessagingSettings, "defaultLanguage">): string[] {
  return [...new Set<string>([...PAGE_LANGUAGES, baseLanguage(settings.defaultLanguage) ?? "en"])];
}

/** The base language of a BCP-47 tag (`pt-BR` → `pt`), or undefined when it is not a tag. */
export function baseLanguage(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag.replace(/_/g, "-"));
    return canonical ? new Intl.Locale(canonical).language : undefined;
  } catch {
    return undefined;
  }
}

function bad(field: string, message: string, value: unknown): AppError {
  return new AppError("consent.invalid_preferences", `${field}: ${message}`, { field, value });
}

/**
 * Checks a change of preferences: an IANA time zone, a language the workspace allows,
 * quiet hours as two different `HH:MM`, a pause in the future and at most a year ahead, and
 * a channel order of known channels without repeats. Throws `consent.invalid_preferences`
 * naming the field.
 */
export function validatePreferencesPatch(
  patch: Record<string, unknown>,
  ctx: { now: Date; languages: readonly string[] },
): PreferencesChange {
  const out: PreferencesChange = {};
  for (const key of Object.keys(patch)) {
    if (!["timezone", "language", "quietHours", "pausedUntil", "channelOrder"].includes(key)) {
      throw bad(key, "is not a preference (timezone, language, quietHours, pausedUntil, channelOrder)", key);
    }
  }
  if (patch.timezone !== undefined) {
    if (patch.timezone === null) out.timezone = null;
    else {
      const tz = validTimezone(patch.timezone);
      if (!tz) throw bad("timezone", "is not an IANA time zone such as Europe/Paris", patch.timezone);
      out.timezone = tz;
    }
  }
  if (patch.language !== undefined) {
    if (patch.language === null) out.language = null;
    else {
      const base = typeof patch.language === "string" ? baseLanguage(patch.language) : undefined;
      if (!base || !ctx.languages.includes(base)) {
        throw bad("language", `must be one of ${ctx.languages.join(", ")} (a BCP-47 tag)`, patch.language);
      }
      out.language = base;
    }
  }
  if (patch.quietHours !== undefined) {
    if (patch.quietHours === null) out.quietHours = null;
    else {
      const q = QuietHoursSchema.safeParse(patch.quietHours);
      if (!q.success) {
        throw bad(
          "quietHours",
          `${q.error.issues[0]?.message ?? "is invalid"} ({ start: "21:00", end: "08:00" })`,
          patch.quietHours,
        );
      }
      out.quietHours = q.data;
    }
  }
  if (patch.pausedUntil !== undefined) {
    if (patch.pausedUntil === null) out.pausedUntil = null;
    else {
      const at =
        patch.pausedUntil instanceof Date
          ? patch.pausedUntil
          : typeof patch.pausedUntil === "string" && /^\d{4}-\d{2}-\d{2}/.test(patch.pausedUntil)
            ? new Date(patch.pausedUntil)
            : undefined;
      if (!at || !Number.isFinite(at.getTime())) {
        throw bad("pausedUntil", "is not an ISO time such as 2030-01-31T00:00:00Z", patch.pausedUntil);
      }
      if (at.getTime() <= ctx.now.getTime())
        throw bad("pausedUntil", "must be in the future", patch.pausedUntil);
      if (at.getTime() - ctx.now.getTime() > MAX_PAUSE_MS) {
        throw bad("pausedUntil", "must be at most one year ahead", patch.pausedUntil);
      }
      out.pausedUntil = at;
    }
  }
  if (patch.channelOrder !== undefined) {
    if (!Array.isArray(patch.channelOrder))
      throw bad("channelOrder", "must be a list of channels", patch.channelOrder);
    const order: Channel[] = [];
    for (const c of patch.channelOrder) {
      const channel = CHANNELS.find((k) => k === c);
      if (!channel)
        throw bad("channelOrder", `"${String(c)}" is not a channel; channels are ${CHANNELS.join(", ")}`, c);
      if (order.includes(channel)) throw bad("channelOrder", `"${channel}" is listed twice`, c);
      order.push(channel);
    }
    out.channelOrder = order;
  }
  return out;
}

/**
 * The live customer behind an id (a merged id gives its survivor), or
 * `consent.customer_not_found` / `consent.invalid_id`.
 */
export async function loadCustomer(db: Db, workspaceId: string, id: string): Promise<Customer> {
  if (!isUuid(id)) throw new AppError("consent.invalid_id", `"${id}" is not a customer id (a UUID).`, { id });
  try {
    return await getCustomer(db, workspaceId, id);
  } catch (err) {
    if (isAppError(err, "profiles.customer_not_found")) {
      throw new AppError("consent.customer_not_found", "No customer with that id in this workspace.", { id });
    }
    throw err;
  }
}

type PreferencesRow = typeof customerPreferences.$inferSelect;

function present(row: PreferencesRow | undefined): Preferences {
  return {
    timezone: row?.timezone ?? null,
    language: row?.language ?? null,
    quietHours: row?.quietHours ?? null,
    pausedUntil: row?.pausedUntil ? row.pausedUntil.toISOString() : null,
    channelOrder: row?.channelOrder ?? [],
    updatedAt: row?.updatedAt ? row.updatedAt.toISOString() : null,
  };
}

/** The preferences stored for a live customer id (all empty when they never chose). */
export async function preferencesOf(db: Db, workspaceId: string, liveId: string): Promise<Preferences> {
  const [row] = await db
    .select()
    .from(customerPreferences)
    .where(and(eq(customerPreferences.workspaceId, workspaceId), eq(customerPreferences.customerId, liveId)));
  return present(row);
}

/** A customer's preferences; a merged id answers with its survivor's. */
export async function getPreferences(db: Db, workspaceId: string, customerId: string): Promise<Preferences> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  return preferencesOf(db, workspaceId, customer.id);
}

/** Writes a validated change for a live customer id, in the caller's transaction. */
export async function writePreferences(
  tx: Db,
  workspaceId: string,
  liveId: string,
  change: PreferencesChange,
): Promise<Preferences> {
  const now = new Date();
  const [row] = await tx
    .insert(customerPreferences)
    .values({ workspaceId, customerId: liveId, ...change, updatedAt: now })
    .onConflictDoUpdate({
      target: [customerPreferences.workspaceId, customerPreferences.customerId],
      set: { ...change, updatedAt: now },
    })
    .returning();
  return present(row);
}

/** Changes a customer's preferences after validating every field (see `validatePreferencesPatch`). */
export async function updatePreferences(
  db: Db,
  workspaceId: string,
  customerId: string,
  patch: Record<string, unknown>,
): Promise<Preferences> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  const settings = await getMessagingSettings(db, workspaceId);
  const change = validatePreferencesPatch(patch, { now: new Date(), languages: allowedLanguages(settings) });
  return writePreferences(db, workspaceId, customer.id, change);
}
