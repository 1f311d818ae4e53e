import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { uuidv7 } from "../ids.ts";
import { type Identifier, identifierKey, lockIdentifiers, lookupIdentities } from "./identifiers.ts";
import { holdLive } from "./merge.ts";
import type { NormalizedEvent } from "./normalize-event.ts";

type Plan = {
  events: number[];
  ids: Map<string, Identifier>;
  firstSeen: number;
  /** The existing customer to attach new identifiers to; undefined for a new customer. */
  attachTo: string | undefined;
};

/**
 * Resolves, in one transaction, the batch's events that need no merge: people seen for the
 * first time (every identifier new, at most one user id), and known people who bring new
 * identifiers but no new user id. Events whose identifiers link them together are resolved
 * as one person. Anything else (merges, alias, a race lost to a concurrent writer) is left
 * to the one-by-one path. Returns the customer of each event it resolved and updates `owner`.
 */
export async function bulkResolve(
  db: Db,
  workspaceId: string,
  events: NormalizedEvent[],
  slow: number[],
  owner: Map<string, string>,
): Promise<Map<number, string>> {
  const plans = planComponents(events, slow, owner);
  const resolved = new Map<number, string>();
  if (plans.length === 0) return resolved;

  const decided = await transactionWithRetry(db, async (tx) => {
    const all = new Map<string, Identifier>();
    for (const p of plans) for (const [k, id] of p.ids) all.set(k, id);
    await lockIdentifiers(tx, workspaceId, all.values());
    const now = await lookupIdentities(tx, workspaceId, all.values());
    // another batch may have written some of these people since we looked: plan again on what
    // the locked identifiers say now, and leave what became a merge to the one-by-one path
    const valid = plans.flatMap((p) => {
      const again = decide(p.ids, now);
      return again === false ? [] : [{ ...p, attachTo: again }];
    });
    const targets = valid.flatMap((p) => (p.attachTo ? [p.attachTo] : []));
    // key share is enough to add identifiers that are not a user id: a merge still waits for us
    const liveOf = await holdLive(tx, workspaceId, targets);
    const out: Array<{ plan: Plan; customerId: string }> = [];
    const customersRows: Array<{ id: string; seen: string }> = [];
    const identityRows: Array<[string, string, string]> = [];
    for (const p of valid) {
      const customerId = p.attachTo ? liveOf.get(p.attachTo) : uuidv7();
      if (!customerId) continue;
      if (!p.attachTo) customersRows.push({ id: customerId, seen: new Date(p.firstSeen).toISOString() });
      for (const [k, id] of p.ids) if (!now.has(k)) identityRows.push([id.kind, id.value, customerId]);
      for (const k of p.ids.keys()) now.set(k, customerId);
      out.push({ plan: p, customerId });
    }
    if (customersRows.length > 0) {
      await tx.execute(sql`INSERT INTO customers (workspace_id, id, first_seen_at, last_seen_at)
        SELECT ${workspaceId}, u.id, u.seen, u.seen
        FROM jsonb_to_recordset(${JSON.stringify(customersRows)}::jsonb) AS u(id uuid, seen timestamptz)`);
    }
    if (identityRows.length > 0) {
      await tx.execute(sql`INSERT INTO identities (workspace_id, kind, value, customer_id)
        SELECT ${workspaceId}, x->>0, x->>1, (x->>2)::uuid FROM jsonb_array_elements(${JSON.stringify(identityRows)}::jsonb) AS x`);
    }
    return out;
  });

  for (const { plan, customerId } of decided) {
    for (const k of plan.ids.keys()) owner.set(k, customerId);
    for (const i of plan.events) resolved.set(i, customerId);
  }
  return resolved;
}

/** Groups the slow events into people (union-find over shared identifiers) and keeps the simple ones. */
function planComponents(events: NormalizedEvent[], slow: number[], owner: Map<string, string>): Plan[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(k, r);
    return r;
  };
  for (const i of slow) {
    const keys = (events[i]?.identifiers ?? []).map(identifierKey);
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (const k of keys.slice(1)) parent.set(find(k), find(keys[0] ?? k));
  }
  const groups = new Map<
    string,
    { events: number[]; ids: Map<string, Identifier>; alias: boolean; first: number }
  >();
  for (const i of slow) {
    const e = events[i];
    if (!e || e.identifiers.length === 0) continue;
    const root = find(identifierKey(e.identifiers[0] as Identifier));
    const g = groups.get(root) ?? {
      events: [] as number[],
      ids: new Map<string, Identifier>(),
      alias: false,
      first: e.timestamp.getTime(),
    };
    g.events.push(i);
    for (const id of e.identifiers) g.ids.set(identifierKey(id), id);
    g.alias ||= e.type === "alias" || e.lookupOnly.length > 0;
    g.first = Math.min(g.first, e.timestamp.getTime());
    groups.set(root, g);
  }
  const plans: Plan[] = [];
  for (const g of groups.values()) {
    if (g.alias) continue;
    const attachTo = decide(g.ids, owner);
    if (attachTo !== false) plans.push({ events: g.events, ids: g.ids, firstSeen: g.first, attachTo });
  }
  return plans;
}

/**
 * What one person's identifiers call for, given who owns which: a new customer (undefined),
 * new identifiers for one existing customer (its id), or `false` when that takes a merge or
 * a second user id, which the one-by-one path decides.
 */
function decide(ids: Map<string, Identifier>, owner: Map<string, string>): string | undefined | false {
  const owners = new Set<string>();
  const newUserIds = new Set<string>();
  for (const [k, id] of ids) {
    const o = owner.get(k);
    if (o) owners.add(o);
    else if (id.kind === "user_id") newUserIds.add(id.value);
  }
  if (owners.size === 0 && newUserIds.size <= 1) return undefined;
  if (owners.size === 1 && newUserIds.size === 0) return [...owners][0];
  return false;
}
