import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { uuidv7 } from "../ids.ts";
import { enqueue } from "../jobs/index.ts";
import { deliverTask, event } from "./engine.ts";

/**
 * Sends a failed delivery again, inside the caller's transaction: the same row, so the same
 * idempotency key reaches the provider. It goes back as `deferred` due now, so the engine meets
 * the Gate again before sending (an address suppressed by the failure is skipped, not retried).
 * Answers the new state, or undefined when the delivery is not (or no longer) failed.
 */
export async function requeueFailedDelivery(
  tx: Db,
  workspaceId: string,
  deliveryId: string,
  details: Record<string, unknown> = {},
): Promise<"deferred" | undefined> {
  const [row] = await rows<{ id: string }>(
    tx,
    sql`UPDATE deliveries SET state = 'deferred', deferred_until = now(), error = NULL, updated_at = now()
        WHERE workspace_id = ${workspaceId} AND id = ${deliveryId} AND state = 'failed'
        RETURNING id::text AS id`,
  );
  if (!row) return undefined;
  await event(tx, workspaceId, deliveryId, "deferred", { retry: true, ...details });
  await enqueue(tx, {
    task: deliverTask,
    payload: { workspaceId, deliveryIds: [deliveryId] },
    workspaceId,
    // each retry is a job of its own; a second click finds the delivery no longer failed
    dedupeKey: `delivery:${deliveryId}:retry:${uuidv7()}`,
  });
  return "deferred";
}
