import type { Db } from "../db/client.ts";
import { type Identifier, identifierKey, lookupIdentities } from "./identifiers.ts";

// Which customer an identifier belongs to, remembered by this process for the accept path.
//
// An entry can grow old but never wrong: an identifier moves only when its whole customer is
// merged, and every writer follows `merged_into` from the customer it was given to the live
// survivor (under a lock a merge waits for). Only the kinds plain events carry are kept, user
// ids (which never move at all) and anonymous ids. Whatever one day deletes an identity or a
// customer must call `forgetOwners`; a customer found missing is resolved again anyway.

const CACHED_KINDS = new Set(["user_id", "anonymous_id"]);
const GENERATION = 100_000;

// two generations: a bounded map without per-hit bookkeeping; hits in the old one move forward
let young = new Map<string, string>();
let old = new Map<string, string>();

function get(key: string): string | undefined {
  const y = young.get(key);
  if (y !== undefined) return y;
  const o = old.get(key);
  if (o !== undefined) set(key, o);
  return o;
}

function set(key: string, customerId: string): void {
  if (young.size >= GENERATION) {
    old = young;
    young = new Map();
  }
  young.set(key, customerId);
}

/**
 * `lookupIdentities` through the cache: the owners of `ids` keyed by `identifierKey`, asking
 * the database only for identifiers this process has not seen with a customer yet.
 */
export async function lookupOwners(
  db: Db,
  workspaceId: string,
  ids: Iterable<Identifier>,
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const missing: Identifier[] = [];
  for (const id of ids) {
    const k = identifierKey(id);
    if (owners.has(k)) continue;
    const hit = CACHED_KINDS.has(id.kind) ? get(`${workspaceId}|${k}`) : undefined;
    if (hit === undefined) missing.push(id);
    else owners.set(k, hit);
  }
  if (missing.length === 0) return owners;
  const found = await lookupIdentities(db, workspaceId, missing);
  for (const id of missing) {
    const k = identifierKey(id);
    const c = found.get(k);
    if (c === undefined) continue;
    owners.set(k, c);
    if (CACHED_KINDS.has(id.kind)) set(`${workspaceId}|${k}`, c);
  }
  return owners;
}

/** Drops every remembered owner (after identities or customers were deleted, and in tests). */
export function forgetOwners(): void {
  young = new Map();
  old = new Map();
}
