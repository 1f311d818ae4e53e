import { sql } from "drizzle-orm";
import { addSuppression } from "../consent/suppressions.ts";
import type { Channel } from "../consent/tables.ts";
import { publishMessageUpdates } from "../conversations/message-updates.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { event } from "./engine.ts";
import type { DeliveryState } from "./tables.ts";
import { emitDeliveryEvent } from "./webhook-events.ts";

/** A provider's news about a message it accepted (a status callback, a bounce, an open). */
export type ProviderStatus = {
  /** The provider kind recorded on the delivery ("twilio", "smtp"…). */
  provider: string;
  providerMessageId: string;
  state: Extract<DeliveryState, "sent" | "delivered" | "failed" | "bounced" | "opened" | "clicked">;
  details?: Record<string, unknown>;
  /** When the provider says it happened; now when absent. */
  at?: Date;
};

// how far along a message is; news only ever moves it forward
const RANK: Partial<Record<DeliveryState, number>> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  opened: 4,
  clicked: 5,
};

/** Whether news of `next` changes a delivery that is `current` (late or repeated news does not). */
export function advances(current: DeliveryState, next: ProviderStatus["state"]): boolean {
  if (next === "failed" || next === "bounced") {
    return current === "sending" || current === "sent" || current === "delivered";
  }
  const a = RANK[current];
  const b = RANK[next];
  return a !== undefined && b !== undefined && b > a;
}

/**
 * Applies a provider's status to the delivery it names (found by provider message id), keeps
 * the history (late news too, without moving the state back), suppresses an address that
 * bounced, and tells the brand's webhooks. Answers false when no delivery matches.
 */
export async function recordProviderStatus(
  db: Db,
  workspaceId: string,
  status: ProviderStatus,
): Promise<boolean> {
  return transactionWithRetry(db, async (tx) => {
    const [row] = await rows<{
      id: string;
      state: DeliveryState;
      customerId: string;
      channel: Channel | null;
      address: string | null;
      topic: string;
      source: string;
    }>(
      tx,
      sql`SELECT id::text AS id, state, customer_id::text AS "customerId", channel, address, request->>'topic' AS topic, source
          FROM deliveries WHERE workspace_id = ${workspaceId} AND provider = ${status.provider}
            AND provider_message_id = ${status.providerMessageId}
          FOR UPDATE`,
    );
    if (!row) return false;
    const moves = advances(row.state, status.state);
    const details = { ...status.details, provider: status.provider, ...(moves ? {} : { late: true }) };
    await event(tx, workspaceId, row.id, status.state, details);
    if (!moves) return true;
    const failed = status.state === "failed" || status.state === "bounced";
    await tx.execute(sql`UPDATE deliveries SET state = ${status.state}, updated_at = now(),
        error = CASE WHEN ${failed} THEN ${JSON.stringify({ reason: String(status.details?.reason ?? status.state), retryable: false })}::jsonb ELSE error END
      WHERE workspace_id = ${workspaceId} AND id = ${row.id}`);
    await emitDeliveryEvent(tx, workspaceId, status.state, {
      deliveryId: row.id,
      customerId: row.customerId,
      channel: row.channel,
      topic: row.topic,
      ...(status.details ? { details: status.details } : {}),
    });
    await publishMessageUpdates(tx, workspaceId, [
      { deliveryId: row.id, state: status.state, source: row.source },
    ]);
    if (status.state === "bounced" && row.channel && row.address && status.details?.hard !== false) {
      await addSuppression(tx, workspaceId, {
        channel: row.channel,
        address: row.address,
        reason: "hard_bounce",
        details: { deliveryId: row.id, provider: status.provider },
      });
    }
    return true;
  });
}
