import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import type { DeliveryState } from "./tables.ts";
import { emitWebhookEvent } from "./webhooks/dispatch.ts";

/**
 * Tells the brand's webhook endpoints that deliveries reached a state (`delivery.sent`…),
 * inside the transaction that recorded it: a rolled-back change tells nobody. A workspace
 * without endpoints costs one look, however many deliveries.
 */
export async function emitDeliveryEvents(
  tx: Db,
  workspaceId: string,
  items: ReadonlyArray<{ state: DeliveryState | string; data: Record<string, unknown> }>,
): Promise<void> {
  // "sending" is an internal step; every other state is news for the brand
  const news = items.filter((i) => i.state !== "sending");
  if (news.length === 0) return;
  const [any] = await rows<{ one: number }>(
    tx,
    sql`SELECT 1 AS one FROM webhook_endpoints WHERE workspace_id = ${workspaceId} AND disabled_at IS NULL LIMIT 1`,
  );
  if (!any) return;
  for (const i of news)
    await emitWebhookEvent(tx, workspaceId, `delivery.${i.state}`, { ...i.data, state: i.state });
}

/** `emitDeliveryEvents` for one delivery. */
export async function emitDeliveryEvent(
  tx: Db,
  workspaceId: string,
  state: DeliveryState | string,
  data: Record<string, unknown>,
): Promise<void> {
  await emitDeliveryEvents(tx, workspaceId, [{ state, data }]);
}
