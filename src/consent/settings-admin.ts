import ct from "countries-and-timezones";
import { eq } from "drizzle-orm";
import type { z } from "zod";
import {
  type MessagingSettingsPatch,
  type MessagingSettingsView,
  MessagingSettingsPatch as PatchSchema,
  parseOrThrow,
} from "../contracts/consent.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { type AuditActor, recordAudit } from "../platform/audit.ts";
import { validTimezone } from "./customer-facts.ts";
import { baseLanguage } from "./preferences.ts";
import { getMessagingSettings, type MessagingSettings } from "./settings.ts";
import { messagingSettings } from "./tables.ts";

// trait names a zero-party answer may not overwrite: they identify the customer, or decide
// which consent rules apply to them (an answer must not move someone out of an opt-in country)
const RESERVED_TRAITS = new Set([
  "email",
  "phone",
  "userId",
  "user_id",
  "id",
  "anonymousId",
  "country",
  "address",
]);

/** The settings as admins see them: the identity secret is shown, the link secret never. */
export function presentSettings(s: MessagingSettings): z.infer<typeof MessagingSettingsView> {
  return {
    defaultTimezone: s.defaultTimezone,
    defaultLanguage: s.defaultLanguage,
    fallbackOrder: s.fallbackOrder,
    caps: s.caps,
    optInCountries: s.optInCountries,
    defaultQuietHours: s.defaultQuietHours ?? null,
    questions: s.questions,
    identitySecret: s.identitySecret,
    updatedAt: s.updatedAt.toISOString(),
  };
}

function invalid(field: string, message: string, value?: unknown): AppError {
  return new AppError("consent.invalid_settings", `${field}: ${message}`, { field, value });
}

function check(p: MessagingSettingsPatch, defaultLanguage: string): Partial<MessagingSettings> {
  const out: Partial<MessagingSettings> = {};
  if (p.defaultTimezone !== undefined) {
    const tz = validTimezone(p.defaultTimezone);
    if (!tz)
      throw invalid("defaultTimezone", "is not an IANA time zone such as Europe/Paris", p.defaultTimezone);
    out.defaultTimezone = tz;
  }
  if (p.defaultLanguage !== undefined) {
    const base = baseLanguage(p.defaultLanguage);
    if (!base) throw invalid("defaultLanguage", "is not a language tag such as en or fr", p.defaultLanguage);
    out.defaultLanguage = base;
  }
  if (p.fallbackOrder !== undefined) {
    if (new Set(p.fallbackOrder).size !== p.fallbackOrder.length)
      throw invalid("fallbackOrder", "lists a channel twice");
    out.fallbackOrder = p.fallbackOrder;
  }
  if (p.caps !== undefined) out.caps = p.caps;
  if (p.optInCountries !== undefined) {
    const codes = p.optInCountries.map((c) => c.trim().toUpperCase());
    const unknown = codes.find((c) => !/^[A-Z]{2}$/.test(c) || !ct.getCountry(c));
    if (unknown !== undefined)
      throw invalid("optInCountries", `"${unknown}" is not an ISO 3166 country code such as FR`, unknown);
    out.optInCountries = [...new Set(codes)].sort();
  }
  if (p.defaultQuietHours !== undefined) out.defaultQuietHours = p.defaultQuietHours;
  if (p.questions !== undefined) {
    const lang = out.defaultLanguage ?? defaultLanguage;
    const keys = new Set<string>();
    for (const q of p.questions) {
      if (RESERVED_TRAITS.has(q.key))
        throw invalid("questions", `"${q.key}" is a trait answers may not set`, q.key);
      if (keys.has(q.key)) throw invalid("questions", `the key "${q.key}" is used twice`, q.key);
      keys.add(q.key);
      if (!q.labels.en && !q.labels[lang]) {
        throw invalid("questions", `question "${q.key}" needs a label in en or ${lang}`, q.key);
      }
      const values = new Set<string>();
      for (const o of q.options) {
        if (values.has(o.value))
          throw invalid("questions", `question "${q.key}" lists "${o.value}" twice`, o.value);
        values.add(o.value);
        if (!o.labels.en && !o.labels[lang]) {
          throw invalid(
            "questions",
            `option "${o.value}" of "${q.key}" needs a label in en or ${lang}`,
            o.value,
          );
        }
      }
    }
    out.questions = p.questions;
  }
  return out;
}

/** Changes a workspace's messaging settings (each field checked) and records who did it. */
export async function updateMessagingSettings(
  db: Db,
  workspaceId: string,
  patch: unknown,
  actor?: AuditActor,
): Promise<MessagingSettings> {
  const p = parseOrThrow(PatchSchema, patch, "consent.invalid_settings", "messaging settings");
  const current = await getMessagingSettings(db, workspaceId);
  const change = check(p, current.defaultLanguage);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(messagingSettings)
      .set({ ...change, updatedAt: new Date() })
      .where(eq(messagingSettings.workspaceId, workspaceId))
      .returning();
    if (!row) throw new Error("messaging settings vanished");
    if (actor) {
      await recordAudit(tx, {
        workspaceId,
        actor,
        action: "messaging_settings.updated",
        target: { kind: "workspace", id: workspaceId },
        details: { fields: Object.keys(change) },
      });
    }
    return row;
  });
}
