import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { uuidv7 } from "../ids.ts";
import type { DeliveryState } from "./tables.ts";

/** Appends lines to deliveries' histories, in one statement however many. */
export async function insertEvents(
  tx: Db,
  workspaceId: string,
  events: ReadonlyArray<{ deliveryId: string; state: DeliveryState; details: Record<string, unknown> }>,
  at: Date = new Date(),
): Promise<void> {
  if (events.length === 0) return;
  const iso = at.toISOString();
  const payload = events.map((e) => ({
    workspace_id: workspaceId,
    id: uuidv7(),
    delivery_id: e.deliveryId,
    state: e.state,
    details: e.details,
    created_at: iso,
  }));
  await tx.execute(sql`INSERT INTO delivery_events
    SELECT * FROM jsonb_populate_recordset(NULL::delivery_events, ${JSON.stringify(payload)}::jsonb)`);
}
