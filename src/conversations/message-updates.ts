import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { BUS_CHANNEL } from "../realtime/envelope.ts";
import { conversationsTopic } from "./inbound.ts";

/**
 * A delivery's new state, as the delivery engine or a provider's callback recorded it, with the
 * delivery's `source` when the caller has it at hand (undefined: look the message up anyway).
 */
export type DeliveryChange = { deliveryId: string; state: string; source?: string };

/**
 * Whether deliveries of this source can carry a conversation message: an agent's reply is the
 * only one (see replies.ts), so campaigns and notifications skip the lookup altogether.
 */
export function mayCarryMessage(source: string | undefined): boolean {
  return source === undefined || source === "agent";
}

/**
 * Tells agents' screens, inside the caller's transaction (heard at commit), that the messages
 * these deliveries carry changed state: `{ type: "message.updated", conversationId, messageId,
 * deliveryState }` on the workspace's conversations topic. One statement, whatever the batch,
 * and none when no delivery of the batch is a reply: campaigns and notifications cost nothing.
 */
export async function publishMessageUpdates(
  tx: Db,
  workspaceId: string,
  changes: readonly DeliveryChange[],
): Promise<void> {
  const wanted = changes.filter((c) => mayCarryMessage(c.source));
  if (wanted.length === 0) return;
  const topic = conversationsTopic(workspaceId);
  const list = JSON.stringify(wanted.map((c) => ({ id: c.deliveryId, state: c.state })));
  // the envelope is built in SQL because the message ids come from the rows found; its shape is
  // the one encodeEnvelope writes, and a few ids and a state stay far below the bus's size limit
  await tx.execute(sql`SELECT pg_notify(${BUS_CHANNEL}, json_build_object('topic', ${topic}::text,
      'message', json_build_object('type', 'message.updated', 'conversationId', m.conversation_id::text,
        'messageId', m.id::text, 'deliveryState', u.state))::text)
    FROM jsonb_to_recordset(${list}::jsonb) AS u(id uuid, state text)
    CROSS JOIN LATERAL (SELECT conversation_id, id FROM conversation_messages
      WHERE workspace_id = ${workspaceId} AND delivery_id = u.id) AS m`);
}
