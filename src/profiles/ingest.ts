import { sql } from "drizzle-orm";
import { type Db, preparedRows } from "../db/client.ts";
import { isUniqueViolation, transactionWithRetry, withRetry } from "../db/retry.ts";
import { eachValue } from "../db/sql-lists.ts";
import { uuidv7 } from "../ids.ts";
import { bulkResolve } from "./bulk-resolve.ts";
import { identifierKey, lookupIdentities } from "./identifiers.ts";
import { holdLive } from "./merge.ts";
import type { NormalizedEvent } from "./normalize-event.ts";
import { resolveInTransaction } from "./resolve.ts";
import { applyTraits } from "./traits.ts";

const EVENT_COLUMNS = sql.raw(
  "workspace_id, id, customer_id, type, name, message_id, user_id, anonymous_id, properties, traits, context, timestamp, received_at, sent_at",
);

export type IngestResult = { stored: number; duplicates: number; customerIds: string[] };

/**
 * The one customer every identifier of `e` already belongs to, or null when the event needs
 * resolving (an identifier is new, they belong to several customers, or it is an alias).
 * Identifiers move only when their whole customer is merged, so the answer stays right
 * however late the event is written: the write follows merges to the survivor.
 */
export function knownCustomer(
  e: NormalizedEvent,
  owner: ReadonlyMap<string, string>,
  follow: (id: string) => string = (id) => id,
): string | null {
  if (e.type === "alias" || e.lookupOnly.length > 0) return null;
  let found: string | null = null;
  for (const id of e.identifiers) {
    const c = owner.get(identifierKey(id));
    if (c === undefined) return null;
    const live = follow(c);
    if (found !== null && found !== live) return null;
    found = live;
  }
  return found;
}

/**
 * Stores a batch of normalised events, in order. Events whose identifiers already point at
 * one customer take the fast path (one transaction for the whole batch); events that bring a
 * new identifier or join two customers are resolved one by one first. A `messageId` already
 * stored is skipped, so a replayed batch changes nothing.
 */
export async function ingestEvents(
  db: Db,
  workspaceId: string,
  batch: NormalizedEvent[],
  /** Runs in the transaction that stores the events (the inbox deletes its rows there). */
  alsoInTransaction?: (tx: Db) => Promise<void>,
): Promise<IngestResult> {
  const unique = new Map<string, NormalizedEvent>();
  for (const e of batch) if (!unique.has(e.messageId)) unique.set(e.messageId, e);
  const todo = [...unique.values()];
  if (todo.length === 0) {
    if (alsoInTransaction) await db.transaction(alsoInTransaction);
    return { stored: 0, duplicates: batch.length, customerIds: [] };
  }

  const owner = await lookupIdentities(
    db,
    workspaceId,
    todo.flatMap((e) => e.identifiers),
  );
  const redirect = new Map<string, string>();
  const follow = (id: string) => redirect.get(id) ?? id;
  const assigned: string[] = [];
  const traitsApplied = new Set<number>();

  const knownOf = (e: NormalizedEvent) => knownCustomer(e, owner, follow);
  const slow = todo.flatMap((e, i) => (knownOf(e) === null ? [i] : []));
  const bulk =
    slow.length > 0 ? await bulkResolve(db, workspaceId, todo, slow, owner) : new Map<number, string>();

  for (const [i, e] of todo.entries()) {
    const inBulk = bulk.get(i);
    if (inBulk) {
      assigned.push(inBulk);
      continue;
    }
    const known = knownOf(e);
    if (known !== null) {
      assigned.push(known);
      continue;
    }
    const result = await transactionWithRetry(db, (tx) =>
      resolveInTransaction(tx, workspaceId, {
        identifiers: e.identifiers,
        lookupOnly: e.lookupOnly,
        at: e.timestamp,
        reason: e.type,
        messageId: e.messageId,
        ...(e.type === "identify" && e.traits ? { traits: e.traits } : {}),
      }),
    );
    traitsApplied.add(i);
    for (const m of result.merged) {
      redirect.set(m, result.customerId);
      for (const [k, v] of redirect) if (v === m) redirect.set(k, result.customerId);
    }
    const conflicted = new Set(result.conflicts.map(identifierKey));
    for (const id of e.identifiers) {
      const k = identifierKey(id);
      if (!conflicted.has(k)) owner.set(k, result.customerId);
    }
    assigned.push(result.customerId);
  }

  return storeEvents(db, workspaceId, todo, (i) => follow(assigned[i] ?? ""), {
    traitsApplied,
    duplicatesBefore: batch.length - todo.length,
    ...(alsoInTransaction ? { alsoInTransaction } : {}),
  });
}

/**
 * Writes events whose customer is already decided, in one transaction: the customers are
 * locked key-share (batches never wait for each other, but a merge of these customers waits
 * for us) and followed to their live survivor; identify traits and group calls of the events
 * actually stored are applied there too. A `messageId` already stored is skipped.
 */
export async function storeEvents(
  db: Db,
  workspaceId: string,
  todo: NormalizedEvent[],
  customerFor: (index: number) => string,
  opts: {
    /** Events whose traits were applied while resolving them. */
    traitsApplied?: ReadonlySet<number>;
    /** Duplicates already dropped by the caller, counted in the result. */
    duplicatesBefore?: number;
    alsoInTransaction?: ((tx: Db) => Promise<void>) | undefined;
  } = {},
): Promise<IngestResult> {
  const traitsApplied = opts.traitsApplied ?? new Set<number>();
  return transactionWithRetry(db, async (tx) => {
    const wanted = [...new Set(todo.map((_, i) => customerFor(i)))];
    const liveOf = await holdLive(tx, workspaceId, wanted);
    const customerOf = (i: number) => {
      const c = customerFor(i);
      return liveOf.get(c) ?? c;
    };
    const inserted = await preparedRows<{ m: string }>(
      tx,
      sql`INSERT INTO events (${EVENT_COLUMNS}) ${eventRows(workspaceId, todo, customerOf)}
          ON CONFLICT DO NOTHING RETURNING message_id AS m`,
    );
    const stored = new Set(inserted.map((r) => r.m));

    const traitCalls = todo.flatMap((e, i) =>
      e.type === "identify" && e.traits && !traitsApplied.has(i) && stored.has(e.messageId)
        ? [{ id: customerOf(i), traits: e.traits, at: e.timestamp }]
        : [],
    );
    await mergeTraitsInto(tx, workspaceId, "customers", traitCalls);
    await applyGroups(
      tx,
      workspaceId,
      todo.flatMap((e, i) =>
        e.type === "group" && e.groupId && stored.has(e.messageId)
          ? [{ groupId: e.groupId, customerId: customerOf(i), traits: e.traits ?? {}, at: e.timestamp }]
          : [],
      ),
    );
    await opts.alsoInTransaction?.(tx);
    return {
      stored: stored.size,
      duplicates: (opts.duplicatesBefore ?? 0) + todo.length - stored.size,
      customerIds: [...new Set(todo.map((_, i) => customerOf(i)))],
    };
  });
}

/** An events row as `eventRows` reads it (the workspace is a parameter of its own). */
function eventRow(e: NormalizedEvent, customerId: string) {
  return {
    id: uuidv7(),
    customer_id: customerId,
    type: e.type,
    name: e.name,
    message_id: e.messageId,
    user_id: e.userId,
    anonymous_id: e.anonymousId,
    properties: e.properties,
    traits: e.traits,
    context: e.context,
    timestamp: e.timestamp.toISOString(),
    received_at: receivedIso(e.receivedAt),
    sent_at: e.sentAt === null ? null : sentIso(e.sentAt),
  };
}

/** `toISOString`, remembering the last date: a request's events share their receivedAt and sentAt. */
function lastIsoOf(): (d: Date) => string {
  let last: Date | undefined;
  let text = "";
  return (d) => {
    if (d !== last) {
      last = d;
      text = d.toISOString();
    }
    return text;
  };
}
const receivedIso = lastIsoOf();
const sentIso = lastIsoOf();

/**
 * The events as rows of `events` for an INSERT … SELECT: one JSON parameter instead of 14 per
 * row (cheaper to bind, no parameter-count ceiling), read with a column list.
 */
function eventRows(workspaceId: string, events: NormalizedEvent[], customerFor: (index: number) => string) {
  const rows = events.map((e, i) => eventRow(e, customerFor(i)));
  return sql`SELECT ${workspaceId}::uuid AS workspace_id, p.* FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
    AS p(id uuid, customer_id uuid, type text, name text, message_id text, user_id text, anonymous_id text,
      properties jsonb, traits jsonb, context jsonb, timestamp timestamptz, received_at timestamptz,
      sent_at timestamptz)`;
}

/**
 * True when storing `e` writes nothing but its events row: no traits to merge, no group to
 * join. Such events of known customers can be appended by `appendEvents` in one statement.
 */
export function isPlainEvent(e: NormalizedEvent): boolean {
  if (e.type === "group" || e.type === "alias") return false;
  return e.type !== "identify" || e.traits === null || Object.keys(e.traits).length === 0;
}

/**
 * Appends plain events (`isPlainEvent`) of customers already decided, in one autocommitted
 * statement: the customers are held key-share while their events are inserted, exactly as
 * `storeEvents` does, and a `messageId` already stored is skipped. An event whose customer
 * turns out merged away meanwhile (or no longer exists) is resolved again by `ingestEvents`.
 */
export async function appendEvents(
  db: Db,
  workspaceId: string,
  events: NormalizedEvent[],
  customerFor: (index: number) => string,
): Promise<IngestResult> {
  const given = events.map((_, i) => customerFor(i));
  const customers = [...new Set(given)].sort();
  // A row lock taken after waiting for a merge sees the merged row (merged_into set): events of
  // such customers are left out here, and so is anything of a customer that no longer exists;
  // the answer is one row, the count stored and the customers found merged or missing.
  // A replayed messageId is rare, so the insert first runs without ON CONFLICT (a speculative
  // insert costs the database more per row) and again with it only when one was stored before.
  const statement = (replay: boolean) =>
    sql`WITH wanted AS MATERIALIZED (SELECT x.v FROM ${eachValue(customers)}
        ), held AS MATERIALIZED (
          SELECT c.id, c.merged_into FROM wanted
          CROSS JOIN LATERAL (SELECT id, merged_into FROM customers
            WHERE workspace_id = ${workspaceId} AND id = wanted.v::uuid FOR KEY SHARE) AS c
        ), ins AS (
          INSERT INTO events (${EVENT_COLUMNS}) SELECT * FROM (${eventRows(workspaceId, events, (i) => given[i] ?? "")}) AS r
          WHERE r.customer_id IN (SELECT id FROM held WHERE merged_into IS NULL)
          ${replay ? sql`ON CONFLICT DO NOTHING` : sql``} RETURNING 1
        )
        SELECT (SELECT count(*) FROM ins)::int AS stored,
          ARRAY(SELECT v FROM wanted WHERE v::uuid NOT IN (SELECT id FROM held WHERE merged_into IS NULL)) AS gone`;
  type Out = { stored: number; gone: string[] };
  let replay = false;
  const [out] = await withRetry(async () => {
    if (!replay) {
      try {
        return await preparedRows<Out>(db, statement(false));
      } catch (err) {
        if (!isUniqueViolation(err, "events_message_id_key")) throw err;
        replay = true;
      }
    }
    return preparedRows<Out>(db, statement(true));
  });
  const stored = out?.stored ?? 0;
  const gone = new Set(out?.gone ?? customers);
  const rest = gone.size === 0 ? [] : events.filter((_, i) => gone.has(given[i] ?? ""));
  const ids = new Set(customers.filter((c) => !gone.has(c)));
  if (rest.length === 0) {
    return { stored, duplicates: events.length - stored, customerIds: [...ids] };
  }
  // merged meanwhile, or gone: resolved again from what the identities say now
  const more = await ingestEvents(db, workspaceId, rest);
  for (const c of more.customerIds) ids.add(c);
  return {
    stored: stored + more.stored,
    duplicates: events.length - stored - more.stored,
    customerIds: [...ids],
  };
}

type TraitCall = { id: string; traits: Record<string, unknown>; at: Date };

/**
 * Merges traits into customers or groups (newer value per key wins): only these rows are
 * locked for update, in id order, and only the rows that changed are written back.
 */
async function mergeTraitsInto(
  tx: Db,
  workspaceId: string,
  table: "customers" | "groups",
  calls: TraitCall[],
): Promise<void> {
  if (calls.length === 0) return;
  const ids = [...new Set(calls.map((c) => c.id))].sort();
  const isCustomer = table === "customers";
  const current = await preparedRows<{
    id: string;
    tid: string;
    traits: Record<string, unknown>;
    traitTimes: Record<string, string>;
  }>(
    tx,
    sql`SELECT t.id::text AS id, t.ctid::text AS tid, t.traits, t.trait_times AS "traitTimes"
        FROM ${eachValue(ids)}
        CROSS JOIN LATERAL (SELECT ctid, id, traits, trait_times FROM ${sql.identifier(table)}
          WHERE workspace_id = ${workspaceId} AND id = ${isCustomer ? sql`x.v::uuid` : sql`x.v`}
          FOR NO KEY UPDATE) AS t
        ORDER BY x.n`,
  );
  // Rows we hold locked stay where they are until we write them, so they are updated by tuple
  // id (a TID scan, whatever the statistics say); a tuple id names one row of this workspace.
  const tidOf = new Map(current.map((c) => [c.id, c.tid]));
  const state = new Map(
    current.map((c) => [c.id, { traits: c.traits, times: c.traitTimes, changed: false }]),
  );
  for (const call of calls) {
    const s = state.get(call.id);
    if (!s) continue;
    const next = applyTraits(s, call.traits, call.at);
    state.set(call.id, { ...next, changed: s.changed || next.changed });
  }
  const payload = [...state]
    .filter(([, s]) => s.changed)
    .map(([id, s]) => ({ id, traits: s.traits, trait_times: s.times }));
  if (payload.length === 0) return;
  await preparedRows(
    tx,
    sql`UPDATE ${sql.identifier(table)} AS t SET traits = u.traits, trait_times = u.trait_times,
      updated_at = now()
    FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb)
      AS u(id ${isCustomer ? sql`uuid` : sql`text`}, traits jsonb, trait_times jsonb)
    WHERE t.ctid = ANY(ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(payload.map((u) => tidOf.get(u.id)))}::jsonb)::tid))
      AND t.id = u.id`,
  );
}

type GroupCall = { groupId: string; customerId: string; traits: Record<string, unknown>; at: Date };

/** Upserts groups (traits merged per key by time) and the membership of each caller. */
async function applyGroups(tx: Db, workspaceId: string, calls: GroupCall[]): Promise<void> {
  if (calls.length === 0) return;
  const ids = [...new Set(calls.map((c) => c.groupId))].sort();
  await tx.execute(sql`INSERT INTO groups (workspace_id, id)
    SELECT ${workspaceId}, g FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) AS g ON CONFLICT DO NOTHING`);
  await mergeTraitsInto(
    tx,
    workspaceId,
    "groups",
    calls.map((c) => ({ id: c.groupId, traits: c.traits, at: c.at })),
  );
  const members = [...new Set(calls.map((c) => JSON.stringify([c.groupId, c.customerId])))];
  await tx.execute(sql`INSERT INTO group_memberships (workspace_id, group_id, customer_id)
    SELECT ${workspaceId}, x->>0, (x->>1)::uuid FROM jsonb_array_elements(${`[${members.join(",")}]`}::jsonb) AS x
    ON CONFLICT DO NOTHING`);
}
