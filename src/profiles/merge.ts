import { sql } from "drizzle-orm";
import { type Db, preparedRows, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { eachValue } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import type { Traits, TraitTimes } from "./tables.ts";
import { combineTraits } from "./traits.ts";

/** A customer row as locked for resolution or merging. */
export type LockedCustomer = {
  id: string;
  mergedInto: string | null;
  /** The external user id this customer holds, if any (at most one, by invariant); read in "update" mode only. */
  userId: string | null;
  traits: Traits;
  traitTimes: TraitTimes;
  /** Milliseconds since the epoch (numbers compare safely, whatever the server's time zone). */
  firstSeenAt: number;
  lastSeenAt: number;
  createdAt: number;
};

/**
 * Something another module must do when two customers become one (re-point its own rows
 * from `mergedId` to `survivorId`). Runs inside the merge transaction.
 */
export type MergeHook = (tx: Db, workspaceId: string, survivorId: string, mergedId: string) => Promise<void>;
const hooks: MergeHook[] = [];

/** Lets a module (conversations, deliveries…) follow merges without reading our tables. */
export function registerMergeHook(hook: MergeHook): void {
  hooks.push(hook);
}

// How a transaction holds the customers it read: `lockLive` (FOR UPDATE) is for changing who
// they are (merging, attaching a user id) and excludes every other locker; `holdLive` (FOR KEY
// SHARE) is for adding rows that point at them (events, identifiers): such writers never wait
// for each other, yet a merge waits for them, so nothing is written against a customer being
// merged away.

/**
 * Locks the given customers for update (in id order, so concurrent lockers cannot deadlock on
 * the ordering) and returns them keyed by id. Merged customers come back with `mergedInto` set.
 */
export async function lockCustomers(
  tx: Db,
  workspaceId: string,
  ids: string[],
): Promise<Map<string, LockedCustomer>> {
  const found = new Map<string, LockedCustomer>();
  if (ids.length === 0) return found;
  const list = await rows<LockedCustomer>(
    tx,
    sql`SELECT id::text AS "id", merged_into::text AS "mergedInto", traits, trait_times AS "traitTimes",
          NULL::text AS "userId",
          (extract(epoch FROM first_seen_at) * 1000)::float8 AS "firstSeenAt",
          (extract(epoch FROM last_seen_at) * 1000)::float8 AS "lastSeenAt",
          (extract(epoch FROM created_at) * 1000)::float8 AS "createdAt"
        FROM ${eachValue([...new Set(ids)].sort())}
        CROSS JOIN LATERAL (SELECT * FROM customers
          WHERE workspace_id = ${workspaceId} AND id = x.v::uuid FOR UPDATE) AS c
        ORDER BY x.n`,
  );
  for (const c of list) found.set(c.id, c);
  if (found.size > 0) {
    // A statement's snapshot is taken before it waits for a row lock: a user id attached by the
    // transaction we waited for would be invisible to a subquery of the locking statement, so
    // user ids are read by a statement of their own, once the locks are held.
    const uids = await rows<{ customerId: string; value: string }>(
      tx,
      sql`SELECT i.customer_id::text AS "customerId", i.value FROM ${eachValue(found.keys())}
          CROSS JOIN LATERAL (SELECT customer_id, value FROM identities
            WHERE workspace_id = ${workspaceId} AND customer_id = x.v::uuid AND kind = 'user_id') AS i`,
    );
    for (const u of uids) {
      const c = found.get(u.customerId);
      if (c) c.userId = u.value;
    }
  }
  return found;
}

/**
 * Locks the live customers behind `ids` for update, following merges (a customer merged while
 * we waited for its lock leads to its survivor). Returns the map of every asked id to its live
 * customer, and the live rows.
 */
export async function lockLive(
  tx: Db,
  workspaceId: string,
  ids: string[],
): Promise<{ liveOf: Map<string, string>; live: Map<string, LockedCustomer> }> {
  return followMerges(ids, (pending) => lockCustomers(tx, workspaceId, pending));
}

/**
 * Holds the live customers behind `ids` with key-share locks, following merges, and returns
 * the map of every asked id to its live customer. Only the id and where it went are read.
 */
export async function holdLive(tx: Db, workspaceId: string, ids: string[]): Promise<Map<string, string>> {
  const { liveOf } = await followMerges(ids, async (pending) => {
    const list = await preparedRows<{ id: string; mergedInto: string | null }>(
      tx,
      sql`SELECT c.id::text AS "id", c.merged_into::text AS "mergedInto" FROM ${eachValue([...new Set(pending)].sort())}
          CROSS JOIN LATERAL (SELECT id, merged_into FROM customers
            WHERE workspace_id = ${workspaceId} AND id = x.v::uuid FOR KEY SHARE) AS c
          ORDER BY x.n`,
    );
    return new Map(list.map((c) => [c.id, c]));
  });
  return liveOf;
}

async function followMerges<R extends { mergedInto: string | null }>(
  ids: string[],
  lockRound: (pending: string[]) => Promise<Map<string, R>>,
): Promise<{ liveOf: Map<string, string>; live: Map<string, R> }> {
  const liveOf = new Map<string, string>();
  const live = new Map<string, R>();
  let pending = [...new Set(ids)];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 5)
      throw new AppError("profiles.merge_busy", "The customer changed too often while being read; retry.");
    const locked = await lockRound(pending);
    const next: string[] = [];
    for (const id of pending) {
      const row = locked.get(id);
      if (!row) continue;
      if (row.mergedInto) {
        next.push(row.mergedInto);
        liveOf.set(id, row.mergedInto);
      } else {
        live.set(id, row);
        liveOf.set(id, id);
      }
    }
    pending = next.filter((id) => !live.has(id));
  }
  // follow the one hop left for ids whose survivor was locked in a later round
  for (const [id, target] of liveOf) if (!live.has(target)) liveOf.set(id, liveOf.get(target) ?? target);
  return { liveOf, live };
}

/**
 * Folds `loser` into `survivor` inside `tx` (both locked by the caller): identities, events,
 * group memberships, conflicts and earlier merges move to the survivor, traits combine
 * (newer value per key wins), and the merge is recorded. The loser's id keeps resolving.
 */
export async function mergeInto(
  tx: Db,
  workspaceId: string,
  survivor: LockedCustomer,
  loser: LockedCustomer,
  why: { reason: string; actor: string; evidence?: Record<string, unknown> },
): Promise<LockedCustomer> {
  const s = survivor.id;
  const l = loser.id;
  await tx.execute(
    sql`UPDATE identities SET customer_id = ${s} WHERE workspace_id = ${workspaceId} AND customer_id = ${l}`,
  );
  await tx.execute(
    sql`UPDATE events SET customer_id = ${s} WHERE workspace_id = ${workspaceId} AND customer_id = ${l}`,
  );
  await tx.execute(sql`INSERT INTO group_memberships (workspace_id, group_id, customer_id, created_at)
    SELECT workspace_id, group_id, ${s}, created_at FROM group_memberships
    WHERE workspace_id = ${workspaceId} AND customer_id = ${l} ON CONFLICT DO NOTHING`);
  await tx.execute(
    sql`DELETE FROM group_memberships WHERE workspace_id = ${workspaceId} AND customer_id = ${l}`,
  );
  await tx.execute(
    sql`UPDATE identity_conflicts SET customer_id = ${s} WHERE workspace_id = ${workspaceId} AND customer_id = ${l}`,
  );
  await tx.execute(
    sql`UPDATE identity_conflicts SET other_customer_id = ${s} WHERE workspace_id = ${workspaceId} AND other_customer_id = ${l}`,
  );
  // keep merged ids one hop from their survivor
  await tx.execute(sql`UPDATE customers SET merged_into = ${s}, updated_at = now()
    WHERE workspace_id = ${workspaceId} AND (merged_into = ${l} OR id = ${l})`);
  for (const hook of hooks) await hook(tx, workspaceId, s, l);
  await tx.execute(sql`INSERT INTO customer_merges (workspace_id, id, survivor_id, merged_id, reason, evidence, actor)
    VALUES (${workspaceId}, ${uuidv7()}, ${s}, ${l}, ${why.reason}, ${JSON.stringify(why.evidence ?? {})}::jsonb, ${why.actor})`);
  const combined = combineTraits(
    { traits: survivor.traits, times: survivor.traitTimes },
    { traits: loser.traits, times: loser.traitTimes },
  );
  return {
    ...survivor,
    userId: survivor.userId ?? loser.userId,
    traits: combined.traits,
    traitTimes: combined.times,
    firstSeenAt: Math.min(survivor.firstSeenAt, loser.firstSeenAt),
    lastSeenAt: Math.max(survivor.lastSeenAt, loser.lastSeenAt),
  };
}

/** Writes back the survivor's traits and seen-times after merges or trait updates. */
export async function saveCustomer(tx: Db, workspaceId: string, c: LockedCustomer): Promise<void> {
  await tx.execute(sql`UPDATE customers SET traits = ${JSON.stringify(c.traits)}::jsonb,
      trait_times = ${JSON.stringify(c.traitTimes)}::jsonb,
      first_seen_at = to_timestamp(${c.firstSeenAt / 1000}), last_seen_at = to_timestamp(${c.lastSeenAt / 1000}),
      updated_at = now()
    WHERE workspace_id = ${workspaceId} AND id = ${c.id}`);
}

/**
 * Merges two customers on an agent's or API's request. Refused (409) when each holds a
 * different external user id: that is two people, never one.
 */
export async function mergeCustomers(
  db: Db,
  workspaceId: string,
  input: { survivorId: string; mergedId: string; actor: string; reason?: string },
  /** Runs in the merge's transaction (the audit entry), so both happen or neither. */
  alsoInTransaction?: (tx: Db, merged: { survivorId: string; mergedId: string }) => Promise<void>,
): Promise<{ survivorId: string; mergedId: string }> {
  for (const id of [input.survivorId, input.mergedId]) {
    if (!isUuid(id))
      throw new AppError("profiles.invalid_id", `"${id}" is not a customer id (a UUID).`, { id });
  }
  return transactionWithRetry(db, async (tx) => {
    const { liveOf, live } = await lockLive(tx, workspaceId, [input.survivorId, input.mergedId]);
    const sId = liveOf.get(input.survivorId);
    const mId = liveOf.get(input.mergedId);
    if (!sId || !mId) {
      throw new AppError("profiles.customer_not_found", "No such customer in this workspace.", {
        id: sId ? input.mergedId : input.survivorId,
      });
    }
    if (sId === mId) {
      throw new AppError("profiles.already_merged", "These two ids already belong to the same customer.", {
        customerId: sId,
      });
    }
    const survivor = live.get(sId);
    const loser = live.get(mId);
    if (!survivor || !loser) throw new Error("locked customers vanished");
    const a = survivor.userId;
    const b = loser.userId;
    if (a && b && a !== b) {
      throw new AppError(
        "profiles.merge_conflict",
        "These customers hold different external user ids, so they are different people and cannot be merged.",
        { survivorUserId: a, mergedUserId: b },
      );
    }
    const merged = await mergeInto(tx, workspaceId, survivor, loser, {
      reason: input.reason ?? "manual",
      actor: input.actor,
      evidence: { requestedSurvivor: input.survivorId, requestedMerged: input.mergedId },
    });
    await saveCustomer(tx, workspaceId, merged);
    await alsoInTransaction?.(tx, { survivorId: sId, mergedId: mId });
    return { survivorId: sId, mergedId: mId };
  });
}
