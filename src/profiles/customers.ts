import { type SQL, sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { eachValue } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { type IdentityKind, normalizeIdentifier } from "./identifiers.ts";

export type Customer = {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ kind: string; value: string }>;
  firstSeenAt: string;
  lastSeenAt: string;
  createdAt: string;
  updatedAt: string;
};

type CustomerRow = Omit<Customer, "identities"> & {
  identities: Array<{ kind: string; value: string }> | null;
};

// last seen is read from the timeline index rather than written on every event, which would
// make concurrent batches queue on the customer's row
const CUSTOMER_COLUMNS = sql`c.id::text AS "id", c.traits,
  COALESCE((SELECT jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value) ORDER BY i.kind, i.value)
    FROM identities i WHERE i.workspace_id = c.workspace_id AND i.customer_id = c.id), '[]'::jsonb) AS identities,
  to_json(c.first_seen_at)#>>'{}' AS "firstSeenAt", to_json(GREATEST(c.last_seen_at, (SELECT max(e.timestamp) FROM events e
    WHERE e.workspace_id = c.workspace_id AND e.customer_id = c.id)))#>>'{}' AS "lastSeenAt",
  to_json(c.created_at)#>>'{}' AS "createdAt", to_json(c.updated_at)#>>'{}' AS "updatedAt"`;

function present(r: CustomerRow): Customer {
  return { ...r, identities: r.identities ?? [] };
}

function iso(s: string): string {
  return new Date(s).toISOString();
}

function presentIso(r: CustomerRow): Customer {
  const c = present(r);
  return {
    ...c,
    firstSeenAt: iso(c.firstSeenAt),
    lastSeenAt: iso(c.lastSeenAt),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

function requireUuid(id: string, what = "customer id"): void {
  if (!isUuid(id)) throw new AppError("profiles.invalid_id", `"${id}" is not a ${what} (a UUID).`, { id });
}

/**
 * Reads a customer by id. A merged id answers with its survivor (and `mergedFrom`), so ids
 * handed out before a merge keep working. Another workspace's id is simply not found.
 */
export async function getCustomer(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<Customer & { requestedId: string }> {
  requireUuid(id);
  const [row] = await rows<CustomerRow>(
    db,
    sql`SELECT ${CUSTOMER_COLUMNS} FROM customers c
        WHERE c.workspace_id = ${workspaceId} AND c.merged_into IS NULL
          AND c.id = COALESCE((SELECT merged_into FROM customers WHERE workspace_id = ${workspaceId} AND id = ${id}), ${id}::uuid)`,
  );
  if (!row)
    throw new AppError("profiles.customer_not_found", "No customer with that id in this workspace.", { id });
  return { ...presentIso(row), requestedId: id };
}

/** The live id behind a customer id (itself, or its survivor after a merge), without reading the profile. */
async function liveId(db: Db, workspaceId: string, id: string): Promise<string> {
  requireUuid(id);
  const [row] = await rows<{ id: string }>(
    db,
    sql`SELECT COALESCE(merged_into, id)::text AS id FROM customers WHERE workspace_id = ${workspaceId} AND id = ${id}`,
  );
  if (!row)
    throw new AppError("profiles.customer_not_found", "No customer with that id in this workspace.", { id });
  return row.id;
}

/** The customer an identifier belongs to, or undefined. */
export async function findByIdentifier(
  db: Db,
  workspaceId: string,
  kind: IdentityKind,
  value: string,
  defaultCountry: string,
): Promise<Customer | undefined> {
  const idf = normalizeIdentifier(kind, value, defaultCountry);
  const [row] = await rows<CustomerRow>(
    db,
    sql`SELECT ${CUSTOMER_COLUMNS} FROM identities x JOIN customers c
          ON c.workspace_id = x.workspace_id AND c.id = x.customer_id
        WHERE x.workspace_id = ${workspaceId} AND x.kind = ${idf.kind} AND x.value = ${idf.value}`,
  );
  return row ? presentIso(row) : undefined;
}

export type CustomerQuery = {
  email?: string | undefined;
  phone?: string | undefined;
  userId?: string | undefined;
  /** Matches name, first/last name or email, case-insensitively. */
  name?: string | undefined;
  /** Exact trait matches, e.g. { plan: "pro" }. */
  traits?: Record<string, string> | undefined;
  limit: number;
  cursor?: string | undefined;
};

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === "string" &&
      typeof v[1] === "string" &&
      isUuid(v[1])
    ) {
      if (Number.isFinite(Date.parse(v[0]))) return [v[0], v[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError(
    "request.invalid_cursor",
    "The cursor is not one this API returned; start again without it.",
  );
}

/** Lists or searches live customers, newest first, with an opaque cursor for the next page. */
export async function listCustomers(
  db: Db,
  workspaceId: string,
  q: CustomerQuery,
  defaultCountry: string,
): Promise<{ data: Customer[]; nextCursor: string | null }> {
  const where: SQL[] = [sql`c.workspace_id = ${workspaceId}`, sql`c.merged_into IS NULL`];
  const byIdentity = (kind: IdentityKind, value: string) => {
    const idf = normalizeIdentifier(kind, value, defaultCountry);
    where.push(sql`c.id IN (SELECT customer_id FROM identities WHERE workspace_id = ${workspaceId}
      AND kind = ${idf.kind} AND value = ${idf.value})`);
  };
  if (q.email) byIdentity("email", q.email);
  if (q.phone) byIdentity("phone", q.phone);
  if (q.userId) byIdentity("user_id", q.userId);
  if (q.name) {
    const like = `%${q.name.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(sql`(c.traits->>'name' ILIKE ${like} OR c.traits->>'firstName' ILIKE ${like}
      OR c.traits->>'lastName' ILIKE ${like} OR c.traits->>'first_name' ILIKE ${like}
      OR c.traits->>'last_name' ILIKE ${like} OR c.traits->>'email' ILIKE ${like}
      OR (COALESCE(c.traits->>'firstName', c.traits->>'first_name', '') || ' ' ||
          COALESCE(c.traits->>'lastName', c.traits->>'last_name', '')) ILIKE ${like})`);
  }
  for (const [key, value] of Object.entries(q.traits ?? {})) {
    where.push(sql`c.traits->>${key} = ${value}`);
  }
  if (q.cursor) {
    const [createdAt, id] = decodeCursor(q.cursor);
    where.push(sql`(c.created_at, c.id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  const found = await rows<CustomerRow & { cursorAt: string }>(
    db,
    sql`SELECT ${CUSTOMER_COLUMNS}, to_json(c.created_at)#>>'{}' AS "cursorAt" FROM customers c
        WHERE ${sql.join(where, sql` AND `)}
        ORDER BY c.created_at DESC, c.id DESC LIMIT ${q.limit + 1}`,
  );
  const page = found.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(({ cursorAt: _c, ...r }) => presentIso(r)),
    nextCursor: found.length > q.limit && last ? encodeCursor(last.cursorAt, last.id) : null,
  };
}

export type TimelineEvent = {
  id: string;
  type: string;
  name: string | null;
  messageId: string;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  traits: Record<string, unknown> | null;
  context: Record<string, unknown>;
  timestamp: string;
  receivedAt: string;
};

/** A customer's events, newest first (merged profiles' events included), with a cursor. */
export async function customerTimeline(
  db: Db,
  workspaceId: string,
  customerId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ data: TimelineEvent[]; nextCursor: string | null }> {
  const customer = { id: await liveId(db, workspaceId, customerId) };
  const where: SQL[] = [sql`workspace_id = ${workspaceId}`, sql`customer_id = ${customer.id}`];
  if (page.cursor) {
    const [ts, id] = decodeCursor(page.cursor);
    where.push(sql`(timestamp, id) < (${ts}::timestamptz, ${id}::uuid)`);
  }
  const found = await rows<TimelineEvent & { cursorAt: string }>(
    db,
    sql`SELECT id::text AS "id", type, name, message_id AS "messageId", user_id AS "userId",
          anonymous_id AS "anonymousId", properties, traits, context,
          to_json(timestamp)#>>'{}' AS "timestamp", to_json(received_at)#>>'{}' AS "receivedAt",
          to_json(timestamp)#>>'{}' AS "cursorAt"
        FROM events WHERE ${sql.join(where, sql` AND `)}
        ORDER BY timestamp DESC, id DESC LIMIT ${page.limit + 1}`,
  );
  const items = found.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    data: items.map(({ cursorAt: _c, ...e }) => ({
      ...e,
      timestamp: iso(e.timestamp),
      receivedAt: iso(e.receivedAt),
    })),
    nextCursor: found.length > page.limit && last ? encodeCursor(last.cursorAt, last.id) : null,
  };
}

export type MergeRecord = {
  id: string;
  survivorId: string;
  mergedId: string;
  reason: string;
  actor: string;
  evidence: Record<string, unknown>;
  createdAt: string;
};

/** Every merge that folded another profile into this customer, newest first. */
export async function customerMerges(
  db: Db,
  workspaceId: string,
  customerId: string,
): Promise<MergeRecord[]> {
  const customer = { id: await liveId(db, workspaceId, customerId) };
  const found = await rows<MergeRecord>(
    db,
    sql`SELECT id::text AS "id", survivor_id::text AS "survivorId", merged_id::text AS "mergedId", reason, actor,
          evidence, to_json(created_at)#>>'{}' AS "createdAt"
        FROM customer_merges WHERE workspace_id = ${workspaceId} AND survivor_id = ${customer.id}
        ORDER BY created_at DESC, id DESC`,
  );
  return found.map((m) => ({ ...m, createdAt: iso(m.createdAt) }));
}

export type ConflictRecord = {
  id: string;
  customerId: string;
  otherCustomerId: string;
  kind: string;
  value: string;
  reason: string;
  messageId: string | null;
  createdAt: string;
};

/** Merges that were refused because they would join two external user ids, newest first. */
export async function listConflicts(
  db: Db,
  workspaceId: string,
  opts: { customerId?: string | undefined; limit: number },
): Promise<ConflictRecord[]> {
  const where: SQL[] = [sql`workspace_id = ${workspaceId}`, sql`resolved_at IS NULL`];
  if (opts.customerId) {
    const c = { id: await liveId(db, workspaceId, opts.customerId) };
    where.push(sql`(customer_id = ${c.id} OR other_customer_id = ${c.id})`);
  }
  const found = await rows<ConflictRecord>(
    db,
    sql`SELECT id::text AS "id", customer_id::text AS "customerId", other_customer_id::text AS "otherCustomerId",
          kind, value, reason, message_id AS "messageId", to_json(created_at)#>>'{}' AS "createdAt"
        FROM identity_conflicts WHERE ${sql.join(where, sql` AND `)}
        ORDER BY created_at DESC, id DESC LIMIT ${opts.limit}`,
  );
  return found.map((c) => ({ ...c, createdAt: iso(c.createdAt) }));
}

/** A customer as senders need them: traits and identities. */
export type Audience = {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ kind: string; value: string }>;
};

/**
 * Many customers at once, keyed by the id asked (a merged id answers with its survivor);
 * ids of no customer are absent. One statement, one primary-key probe per id.
 */
export async function getAudiences(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, Audience>> {
  const asked = [...new Set(ids)];
  for (const id of asked) requireUuid(id);
  if (asked.length === 0) return new Map();
  const found = await rows<Audience & { asked: string; identities: Audience["identities"] | null }>(
    db,
    sql`SELECT x.v AS asked, c.id::text AS id, c.traits,
          (SELECT jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value) ORDER BY i.kind, i.value)
            FROM identities i WHERE i.workspace_id = c.workspace_id AND i.customer_id = c.id) AS identities
        FROM ${eachValue(asked)}
        CROSS JOIN LATERAL (SELECT COALESCE(merged_into, id) AS live FROM customers
          WHERE workspace_id = ${workspaceId} AND id = x.v::uuid) AS m
        CROSS JOIN LATERAL (SELECT * FROM customers WHERE workspace_id = ${workspaceId} AND id = m.live) AS c`,
  );
  return new Map(found.map((r) => [r.asked, { id: r.id, traits: r.traits, identities: r.identities ?? [] }]));
}
