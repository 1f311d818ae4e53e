import { sql } from "drizzle-orm";
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { type Db, isEmbedded, preparedRows } from "../db/client.ts";
import { jsonParam } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";

/**
 * The kinds of identifier a person can be known by. `user_id` is the brand's own account id
 * and is exclusive: a customer holds at most one. The others are many-per-customer.
 */
export const IdentityKind = z.enum([
  "user_id",
  "email",
  "phone",
  "anonymous_id",
  "messenger_psid",
  "instagram_id",
  "whatsapp_id",
  "x_id",
  "x_handle",
  "device_token",
]);
export type IdentityKind = z.infer<typeof IdentityKind>;

export type Identifier = { kind: IdentityKind; value: string };

/** Which identifier wins when an event's identifiers disagree: strongest first. */
export const KIND_RANK: Record<IdentityKind, number> = {
  user_id: 0,
  email: 1,
  phone: 2,
  whatsapp_id: 3,
  messenger_psid: 4,
  instagram_id: 5,
  x_id: 6,
  x_handle: 7,
  device_token: 8,
  anonymous_id: 9,
};

// deliberately permissive local part (RFC 5321 allows much); strict enough to catch typos
const EMAIL_RE =
  /^[^\s@"<>()[\],;:]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Lower-cases and trims an email; throws `profiles.invalid_email` when it is not one. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_RE.test(email)) {
    throw new AppError("profiles.invalid_email", `"${raw}" is not a valid email address.`, { value: raw });
  }
  return email;
}

/**
 * Turns a phone number into E.164 (`+33612345678`). Numbers without a country prefix are
 * read in `defaultCountry`. Throws `profiles.invalid_phone` when it cannot be a real number.
 */
export function normalizePhone(raw: string, defaultCountry: string): string {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultCountry as CountryCode);
  if (!parsed?.isValid()) {
    throw new AppError(
      "profiles.invalid_phone",
      `"${raw}" is not a valid phone number; send it in E.164 form such as +14155550123.`,
      { value: raw, defaultCountry },
    );
  }
  return parsed.number;
}

/** Normalises one identifier of any kind (emails, phones, handles); throws on invalid values. */
export function normalizeIdentifier(kind: IdentityKind, raw: string, defaultCountry: string): Identifier {
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > 512) {
    throw new AppError("profiles.invalid_identifier", `A ${kind} must be 1 to 512 characters.`, { kind });
  }
  switch (kind) {
    case "email":
      return { kind, value: normalizeEmail(trimmed) };
    case "phone":
    case "whatsapp_id":
      return { kind, value: normalizePhone(trimmed, defaultCountry) };
    case "x_handle":
      return { kind, value: trimmed.replace(/^@/, "").toLowerCase() };
    default:
      return { kind, value: trimmed };
  }
}

/** A stable string key for an identifier, for maps and advisory locks. */
export function identifierKey(id: Identifier): string {
  return `${id.kind}:${id.value}`;
}

/**
 * Which customer each identifier belongs to now, keyed by `identifierKey`. One statement; the
 * lateral join makes it one primary-key probe per identifier whatever the table's size.
 */
export async function lookupIdentities(
  db: Db,
  workspaceId: string,
  ids: Iterable<Identifier>,
): Promise<Map<string, string>> {
  const pairs = new Map<string, [string, string]>();
  for (const id of ids) pairs.set(identifierKey(id), [id.kind, id.value]);
  if (pairs.size === 0) return new Map();
  const found = await preparedRows<{ kind: string; value: string; customerId: string }>(
    db,
    sql`SELECT x->>0 AS kind, x->>1 AS value, i.customer_id::text AS "customerId"
        FROM jsonb_array_elements(${jsonParam([...pairs.values()])}) AS x
        CROSS JOIN LATERAL (SELECT customer_id FROM identities
          WHERE workspace_id = ${workspaceId} AND kind = x->>0 AND value = x->>1) AS i`,
  );
  return new Map(found.map((r) => [`${r.kind}:${r.value}`, r.customerId]));
}

/**
 * Takes a transaction-scoped advisory lock on each identifier, in sorted order so two
 * transactions wanting overlapping sets cannot deadlock. Whoever creates or moves an
 * identifier holds its lock, so two resolutions of one new email cannot both create it.
 */
export async function lockIdentifiers(tx: Db, workspaceId: string, ids: Iterable<Identifier>): Promise<void> {
  // PGlite runs one transaction at a time: there nobody else could be resolving meanwhile
  if (isEmbedded(tx)) return;
  const keys = [...new Set([...ids].map((i) => `${workspaceId}|${identifierKey(i)}`))].sort();
  if (keys.length === 0) return;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
    FROM jsonb_array_elements_text(${jsonParam(keys)}) WITH ORDINALITY AS t(k, n) ORDER BY n`);
}
