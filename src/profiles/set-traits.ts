import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import type { Traits, TraitTimes } from "./tables.ts";
import { applyTraits } from "./traits.ts";

/**
 * Sets traits a customer gave outside an event stream (zero-party answers in the preference
 * center) inside the caller's transaction: newer-wins per key, as identify does, so a later
 * event is never overwritten by an older answer. The row is locked `FOR NO KEY UPDATE` (a
 * merge waits for us, concurrent trait writers queue) and a merged id leads to its survivor.
 */
export async function setTraits(
  tx: Db,
  workspaceId: string,
  customerId: string,
  traits: Traits,
  at: Date,
): Promise<{ customerId: string; traits: Traits; changed: boolean }> {
  if (!isUuid(customerId)) {
    throw new AppError("profiles.invalid_id", `"${customerId}" is not a customer id (a UUID).`, {
      id: customerId,
    });
  }
  let id = customerId;
  for (let hop = 0; hop < 5; hop++) {
    const [row] = await rows<{ mergedInto: string | null; traits: Traits; traitTimes: TraitTimes }>(
      tx,
      sql`SELECT merged_into::text AS "mergedInto", traits, trait_times AS "traitTimes" FROM customers
          WHERE workspace_id = ${workspaceId} AND id = ${id} FOR NO KEY UPDATE`,
    );
    if (!row) {
      throw new AppError("profiles.customer_not_found", "No customer with that id in this workspace.", {
        id: customerId,
      });
    }
    if (row.mergedInto) {
      id = row.mergedInto;
      continue;
    }
    const next = applyTraits({ traits: row.traits, times: row.traitTimes }, traits, at);
    if (next.changed) {
      await tx.execute(sql`UPDATE customers SET traits = ${JSON.stringify(next.traits)}::jsonb,
          trait_times = ${JSON.stringify(next.times)}::jsonb, updated_at = now()
        WHERE workspace_id = ${workspaceId} AND id = ${id}`);
    }
    return { customerId: id, traits: next.traits, changed: next.changed };
  }
  throw new AppError("profiles.merge_busy", "The customer changed too often while being read; retry.");
}
