import { createHash } from "node:crypto";
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { parseOrThrow, type Suppression, SuppressionInput } from "../contracts/consent.ts";
import { type Db, rows } from "../db/client.ts";
import { jsonParam } from "../db/sql-lists.ts";
import { AppError, isAppError } from "../errors.ts";
import { normalizeEmail, normalizePhone } from "../profiles/identifiers.ts";
import { CHANNELS, type Channel, type SuppressionReason, suppressions } from "./tables.ts";

type SuppressionRow = typeof suppressions.$inferSelect;

function requireChannel(channel: string): Channel {
  const found = CHANNELS.find((c) => c === channel);
  if (!found) {
    throw new AppError(
      "consent.invalid_channel",
      `"${channel}" is not a channel; channels are ${CHANNELS.join(", ")}.`,
      {
        channel,
      },
    );
  }
  return found;
}

/**
 * The address as suppressions key it: emails lower-cased, phones (SMS, WhatsApp) in E.164
 * (a number without a country prefix is read in `defaultCountry`), other ids trimmed.
 */
export function normalizeAddress(channel: Channel, address: string, defaultCountry?: string): string {
  try {
    if (channel === "email") return normalizeEmail(address);
    if (channel === "sms" || channel === "whatsapp") return normalizePhone(address, defaultCountry ?? "ZZ");
  } catch (err) {
    if (isAppError(err)) throw new AppError("consent.invalid_address", err.message, { channel, address });
    throw err;
  }
  const trimmed = address.trim();
  if (trimmed.length === 0 || trimmed.length > 512) {
    throw new AppError("consent.invalid_address", `A ${channel} address is 1 to 512 characters.`, {
      channel,
    });
  }
  return trimmed;
}

/** sha256 (hex) of the normalised address: the key of a suppression, and all an erasure keeps. */
export function addressHash(channel: Channel, address: string, defaultCountry?: string): string {
  return createHash("sha256")
    .update(normalizeAddress(channel, address, defaultCountry))
    .digest("hex");
}

/** A suppression as the API shows it. */
export function presentSuppression(r: SuppressionRow): Suppression {
  return {
    channel: r.channel,
    address: r.address,
    addressHash: r.addressHash,
    reason: r.reason,
    details: r.details,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Stops every message (transactional too) to an address. Adding one already there keeps the
 * first reason and time: a hard bounce stays a hard bounce when a manual entry follows.
 */
export async function addSuppression(
  db: Db,
  workspaceId: string,
  input: { channel: string; address: string; reason?: SuppressionReason; details?: Record<string, unknown> },
  defaultCountry?: string,
): Promise<{ suppression: SuppressionRow; created: boolean }> {
  const s = parseOrThrow(SuppressionInput, input, "consent.invalid_suppression", "suppression");
  const address = normalizeAddress(s.channel, s.address, defaultCountry);
  const hash = addressHash(s.channel, address);
  const [inserted] = await db
    .insert(suppressions)
    .values({
      workspaceId,
      channel: s.channel,
      addressHash: hash,
      address,
      reason: s.reason,
      details: s.details,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) return { suppression: inserted, created: true };
  const [existing] = await db
    .select()
    .from(suppressions)
    .where(
      and(
        eq(suppressions.workspaceId, workspaceId),
        eq(suppressions.channel, s.channel),
        eq(suppressions.addressHash, hash),
      ),
    );
  if (!existing) throw new Error("suppression vanished after a conflicting insert");
  return { suppression: existing, created: false };
}

/**
 * Lifts a suppression (an address fixed after a bounce). An erasure is refused: it records
 * that a person asked to be forgotten, and lifting it would let messages reach them again.
 */
export async function removeSuppression(
  db: Db,
  workspaceId: string,
  channel: string,
  address: string,
  defaultCountry?: string,
): Promise<SuppressionRow> {
  const ch = requireChannel(channel);
  const hash = addressHash(ch, address, defaultCountry);
  return db.transaction(async (tx) => {
    const where = and(
      eq(suppressions.workspaceId, workspaceId),
      eq(suppressions.channel, ch),
      eq(suppressions.addressHash, hash),
    );
    const [found] = await tx.select().from(suppressions).where(where).for("update");
    if (!found) {
      throw new AppError("consent.suppression_not_found", `${address} is not suppressed on ${ch}.`, {
        channel: ch,
      });
    }
    if (found.reason === "erased") {
      throw new AppError(
        "consent.suppression_erased",
        "This address belongs to a person who asked to be erased; its suppression cannot be lifted.",
        { channel: ch },
      );
    }
    await tx.delete(suppressions).where(where);
    return found;
  });
}

function encodeCursor(r: SuppressionRow): string {
  return Buffer.from(JSON.stringify([r.createdAt.toISOString(), r.channel, r.addressHash])).toString(
    "base64url",
  );
}

function decodeCursor(cursor: string): [Date, string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "string")) {
      const at = new Date(String(v[0]));
      if (Number.isFinite(at.getTime())) return [at, String(v[1]), String(v[2])];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError(
    "request.invalid_cursor",
    "The cursor is not one this API returned; start again without it.",
  );
}

/** The workspace's suppressions, newest first, optionally of one channel, with a cursor. */
export async function listSuppressions(
  db: Db,
  workspaceId: string,
  q: { channel?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ data: SuppressionRow[]; nextCursor: string | null }> {
  const ch = q.channel ? requireChannel(q.channel) : undefined;
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const found = await db
    .select()
    .from(suppressions)
    .where(
      and(
        eq(suppressions.workspaceId, workspaceId),
        ch ? eq(suppressions.channel, ch) : undefined,
        after
          ? or(
              lt(suppressions.createdAt, after[0]),
              and(
                eq(suppressions.createdAt, after[0]),
                sql`(${suppressions.channel}, ${suppressions.addressHash}) < (${after[1]}, ${after[2]})`,
              ),
            )
          : undefined,
      ),
    )
    .orderBy(desc(suppressions.createdAt), desc(suppressions.channel), desc(suppressions.addressHash))
    .limit(q.limit + 1);
  const page = found.slice(0, q.limit);
  const last = page.at(-1);
  return { data: page, nextCursor: found.length > q.limit && last ? encodeCursor(last) : null };
}

/**
 * The suppressions of these destinations, in one statement (one primary-key probe per
 * destination); addresses that do not normalise are skipped.
 */
export async function suppressionsFor(
  db: Db,
  workspaceId: string,
  destinations: ReadonlyArray<{ channel: Channel; address: string }>,
  defaultCountry?: string,
): Promise<SuppressionRow[]> {
  const pairs = new Map<string, [string, string]>();
  for (const d of destinations) {
    try {
      const hash = addressHash(d.channel, d.address, defaultCountry);
      pairs.set(`${d.channel}:${hash}`, [d.channel, hash]);
    } catch (err) {
      if (!isAppError(err, "consent.invalid_address")) throw err;
    }
  }
  if (pairs.size === 0) return [];
  const found = await rows<{
    channel: Channel;
    addressHash: string;
    address: string | null;
    reason: SuppressionReason;
    details: Record<string, unknown>;
    createdAt: string;
  }>(
    db,
    sql`SELECT s.channel, s.address_hash AS "addressHash", s.address, s.reason, s.details,
          to_json(s.created_at)#>>'{}' AS "createdAt"
        FROM jsonb_array_elements(${jsonParam([...pairs.values()])}) AS x
        CROSS JOIN LATERAL (SELECT * FROM suppressions
          WHERE workspace_id = ${workspaceId} AND channel = x->>0 AND address_hash = x->>1) AS s`,
  );
  return found.map((r) => ({ ...r, workspaceId, createdAt: new Date(r.createdAt) }));
}

/** Which of these destinations are suppressed, as a set of `channel:hash` (for the Gate). */
export async function suppressedAddresses(
  db: Db,
  workspaceId: string,
  destinations: ReadonlyArray<{ channel: Channel; address: string }>,
  defaultCountry?: string,
): Promise<Set<string>> {
  const found = await suppressionsFor(db, workspaceId, destinations, defaultCountry);
  return new Set(found.map((r) => `${r.channel}:${r.addressHash}`));
}

/**
 * Forgets an address but keeps it unreachable: the suppression keeps only its hash (address
 * NULL, reason `erased`), whatever it was suppressed for before.
 */
export async function eraseAddress(
  db: Db,
  workspaceId: string,
  channel: string,
  address: string,
  defaultCountry?: string,
): Promise<void> {
  const ch = requireChannel(channel);
  const hash = addressHash(ch, address, defaultCountry);
  await db
    .insert(suppressions)
    .values({ workspaceId, channel: ch, addressHash: hash, address: null, reason: "erased", details: {} })
    .onConflictDoUpdate({
      target: [suppressions.workspaceId, suppressions.channel, suppressions.addressHash],
      set: { address: null, reason: "erased", details: {} },
    });
}
