import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { registerMergeHook } from "../profiles/merge.ts";

/**
 * When two customers become one, their consent becomes one: the merged customer's ledger
 * entries move to the survivor, each channel × topic keeps the newer of the two states (as
 * rebuilding from the joined ledger would), and the survivor's preferences stay, with its
 * empty fields filled from the merged customer's.
 */
export async function mergeConsent(
  tx: Db,
  workspaceId: string,
  survivorId: string,
  mergedId: string,
): Promise<void> {
  await tx.execute(sql`UPDATE consent_ledger SET customer_id = ${survivorId}
    WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}`);
  await tx.execute(sql`INSERT INTO consent_states (workspace_id, customer_id, channel, topic, status, ledger_id, updated_at)
    SELECT workspace_id, ${survivorId}, channel, topic, status, ledger_id, updated_at FROM consent_states
    WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO UPDATE
      SET status = excluded.status, ledger_id = excluded.ledger_id, updated_at = excluded.updated_at
      WHERE (consent_states.updated_at, consent_states.ledger_id) < (excluded.updated_at, excluded.ledger_id)`);
  await tx.execute(
    sql`DELETE FROM consent_states WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}`,
  );
  await tx.execute(sql`INSERT INTO customer_preferences AS p
      (workspace_id, customer_id, timezone, language, quiet_hours, paused_until, channel_order, updated_at)
    SELECT workspace_id, ${survivorId}, timezone, language, quiet_hours, paused_until, channel_order, updated_at
    FROM customer_preferences WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET
      timezone = COALESCE(p.timezone, excluded.timezone),
      language = COALESCE(p.language, excluded.language),
      quiet_hours = COALESCE(NULLIF(p.quiet_hours, 'null'::jsonb), excluded.quiet_hours),
      paused_until = COALESCE(p.paused_until, excluded.paused_until),
      channel_order = CASE WHEN jsonb_array_length(p.channel_order) = 0 THEN excluded.channel_order
        ELSE p.channel_order END,
      updated_at = now()`);
  await tx.execute(
    sql`DELETE FROM customer_preferences WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}`,
  );
}

registerMergeHook(mergeConsent);
