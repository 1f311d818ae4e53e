import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { uuidv7 } from "../ids.ts";
import {
  type Identifier,
  identifierKey,
  KIND_RANK,
  lockIdentifiers,
  lookupIdentities,
} from "./identifiers.ts";
import { type LockedCustomer, lockLive, mergeInto, saveCustomer } from "./merge.ts";
import type { Traits } from "./tables.ts";
import { applyTraits } from "./traits.ts";

export type ResolveInput = {
  /** Normalised identifiers seen together; at most one `user_id` is the event's own. */
  identifiers: Identifier[];
  /** When the evidence happened (the event's corrected timestamp). */
  at: Date;
  /** Why these identifiers are seen together: the event type, or "alias", "manual"… */
  reason: string;
  messageId?: string;
  /** Traits to apply to the resolved customer (identify). */
  traits?: Traits;
  /** Identifiers that only point at an existing customer and are never attached (alias's previous user id). */
  lookupOnly?: Identifier[];
};

export type ResolveResult = {
  customerId: string;
  created: boolean;
  /** Customers merged into `customerId` by this call. */
  merged: string[];
  /** Identifiers left with another customer because moving them would join two user ids. */
  conflicts: Identifier[];
};

type Candidate = { id: Identifier; customerId: string };

/**
 * Finds or creates the one customer these identifiers belong to, inside the caller's
 * transaction. Customers that share an identifier are merged when that is safe; it is not
 * safe when they would end up holding two different external user ids, and then the
 * identifier stays where it is and the conflict is recorded.
 *
 * Concurrency: advisory locks on every identifier (sorted) serialise resolutions that touch
 * the same identifier, so two concurrent identifies of one new email create one customer;
 * customer rows are then locked in id order before anything moves.
 */
export async function resolveInTransaction(
  tx: Db,
  workspaceId: string,
  input: ResolveInput,
): Promise<ResolveResult> {
  const own = dedupe(input.identifiers);
  const lookups = dedupe(input.lookupOnly ?? []);
  const all = dedupe([...own, ...lookups]);
  if (own.length === 0) throw new Error("resolve needs at least one identifier");
  await lockIdentifiers(tx, workspaceId, all);

  const owner = await lookupIdentities(tx, workspaceId, all);
  const { liveOf, live } = await lockLive(tx, workspaceId, [...owner.values()]);
  const candidates: Candidate[] = [];
  for (const id of all) {
    const c = owner.get(identifierKey(id));
    const liveId = c ? liveOf.get(c) : undefined;
    if (liveId) candidates.push({ id, customerId: liveId });
  }
  candidates.sort((a, b) => KIND_RANK[a.id.kind] - KIND_RANK[b.id.kind]);
  const liveIds = [...new Set(candidates.map((c) => c.customerId))];
  const uidOf = new Map<string, string>();
  for (const id of liveIds) {
    const u = live.get(id)?.userId;
    if (u) uidOf.set(id, u);
  }

  // The user id this person is: the event's own, else the only one among the candidates,
  // else the one reached through the strongest identifier.
  const incomingUid = own.find((i) => i.kind === "user_id")?.value;
  const candidateUids = [...new Set(liveIds.map((id) => uidOf.get(id)).filter((u): u is string => !!u))];
  let primaryUid = incomingUid;
  if (!primaryUid && candidateUids.length === 1) primaryUid = candidateUids[0];
  if (!primaryUid && candidateUids.length > 1) {
    primaryUid = candidates.map((c) => uidOf.get(c.customerId)).find((u) => u !== undefined);
  }
  const compatible = (customerId: string) => {
    const u = uidOf.get(customerId);
    return u === undefined || u === primaryUid;
  };

  const group = liveIds.filter(compatible);
  const holder = group.find((id) => primaryUid !== undefined && uidOf.get(id) === primaryUid);
  const oldest = [...group].sort((a, b) => (live.get(a)?.createdAt ?? 0) - (live.get(b)?.createdAt ?? 0))[0];
  const survivorId = holder ?? oldest;

  const fresh = own.filter((i) => !owner.has(identifierKey(i)));
  if (!survivorId) {
    // a person seen for the first time: one statement writes them and their identifiers
    const attach = fresh.filter((i) => i.kind !== "user_id" || i.value === primaryUid);
    const created = await createCustomer(tx, workspaceId, input, attach);
    for (const c of candidates) await recordConflict(tx, workspaceId, created, c.customerId, c.id, input);
    return { customerId: created, created: true, merged: [], conflicts: candidates.map((c) => c.id) };
  }
  const row = live.get(survivorId);
  if (!row) throw new Error("survivor not locked");
  let survivor: LockedCustomer = row;

  const merged: string[] = [];
  for (const id of group) {
    if (id === survivor.id) continue;
    const loser = live.get(id);
    if (!loser) continue;
    survivor = await mergeInto(tx, workspaceId, survivor, loser, {
      reason: input.reason,
      actor: "identity-resolution",
      evidence: {
        messageId: input.messageId ?? null,
        identifiers: candidates.filter((c) => c.customerId === id).map((c) => c.id),
      },
    });
    merged.push(id);
  }

  const conflicts: Identifier[] = [];
  for (const c of candidates) {
    if (compatible(c.customerId)) continue;
    conflicts.push(c.id);
    await recordConflict(tx, workspaceId, survivor.id, c.customerId, c.id, input);
  }

  // only the holder of the primary user id can hold one, so a survivor without one may take it
  const survivorUid = uidOf.get(survivor.id);
  const attach = fresh.filter(
    (i) => i.kind !== "user_id" || (survivorUid === undefined && i.value === primaryUid),
  );
  if (attach.length > 0) {
    const values = attach.map((i) => [i.kind, i.value]);
    await tx.execute(sql`INSERT INTO identities (workspace_id, kind, value, customer_id)
      SELECT ${workspaceId}, x->>0, x->>1, ${survivor.id} FROM jsonb_array_elements(${JSON.stringify(values)}::jsonb) AS x`);
  }

  const at = input.at.getTime();
  let changed = merged.length > 0 || at < survivor.firstSeenAt || at > survivor.lastSeenAt;
  survivor = {
    ...survivor,
    firstSeenAt: Math.min(survivor.firstSeenAt, at),
    lastSeenAt: Math.max(survivor.lastSeenAt, at),
  };
  if (input.traits) {
    const next = applyTraits({ traits: survivor.traits, times: survivor.traitTimes }, input.traits, input.at);
    survivor = { ...survivor, traits: next.traits, traitTimes: next.times };
    changed ||= next.changed;
  }
  if (changed) await saveCustomer(tx, workspaceId, survivor);
  return { customerId: survivor.id, created: false, merged, conflicts };
}

function dedupe(ids: Identifier[]): Identifier[] {
  const seen = new Map<string, Identifier>();
  for (const i of ids) seen.set(identifierKey(i), i);
  return [...seen.values()];
}

async function createCustomer(
  tx: Db,
  workspaceId: string,
  input: ResolveInput,
  attach: Identifier[],
): Promise<string> {
  const id = uuidv7();
  const seen = input.at.getTime() / 1000;
  const t = input.traits
    ? applyTraits({ traits: {}, times: {} }, input.traits, input.at)
    : { traits: {}, times: {} };
  await tx.execute(sql`WITH c AS (
      INSERT INTO customers (workspace_id, id, traits, trait_times, first_seen_at, last_seen_at)
      VALUES (${workspaceId}, ${id}, ${JSON.stringify(t.traits)}::jsonb, ${JSON.stringify(t.times)}::jsonb,
        to_timestamp(${seen}), to_timestamp(${seen}))
      RETURNING id)
    INSERT INTO identities (workspace_id, kind, value, customer_id)
    SELECT ${workspaceId}, x->>0, x->>1, c.id
    FROM c, jsonb_array_elements(${JSON.stringify(attach.map((i) => [i.kind, i.value]))}::jsonb) AS x`);
  return id;
}

async function recordConflict(
  tx: Db,
  workspaceId: string,
  customerId: string,
  otherCustomerId: string,
  id: Identifier,
  input: ResolveInput,
): Promise<void> {
  await tx.execute(sql`INSERT INTO identity_conflicts
      (workspace_id, id, customer_id, other_customer_id, kind, value, reason, message_id)
    VALUES (${workspaceId}, ${uuidv7()}, ${customerId}, ${otherCustomerId}, ${id.kind}, ${id.value},
      ${`${input.reason}: would join two different external user ids`}, ${input.messageId ?? null})`);
}
