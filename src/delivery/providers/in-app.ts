import { sql } from "drizzle-orm";
import { z } from "zod";
import {
  type AppStreamEvent,
  appTopic,
  type InAppMessage,
  type InAppState,
} from "../../contracts/message-center.ts";
import { type Db, rows } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import { uuidv7 } from "../../ids.ts";
import { registerMergeHook } from "../../profiles/merge.ts";
import { publishInTransaction } from "../../realtime/bus.ts";
import type { Provider } from "./types.ts";

/** A message row as the SQL below reads it (timestamps as text, to keep microseconds for cursors). */
export type MessageRow = {
  id: string;
  customerId: string;
  deliveryId: string;
  title: string | null;
  body: string;
  data: Record<string, string> | null;
  state: InAppState;
  createdAt: string;
  readAt: string | null;
  expiresAt: string | null;
  expired: boolean;
};

/** The columns of `in_app_messages AS m`, shaped as a MessageRow. */
export const MESSAGE_COLUMNS = sql`m.id::text AS "id", m.customer_id::text AS "customerId",
  m.delivery_id::text AS "deliveryId", m.title, m.body, m.data, m.state,
  to_json(m.created_at)#>>'{}' AS "createdAt", to_json(m.read_at)#>>'{}' AS "readAt",
  to_json(m.expires_at)#>>'{}' AS "expiresAt",
  (m.expires_at IS NOT NULL AND m.expires_at <= now()) AS "expired"`;

/** A database timestamp as ISO 8601, keeping NULL. */
export const iso = (s: string | null) => (s === null ? null : new Date(s).toISOString());

/** A row as the app sees it. */
export function presentMessage(r: MessageRow): InAppMessage {
  return {
    id: r.id,
    title: r.title,
    body: r.body,
    data: r.data ?? {},
    state: r.state,
    createdAt: new Date(r.createdAt).toISOString(),
    readAt: iso(r.readAt),
    expiresAt: iso(r.expiresAt),
  };
}

// a merged customer's messages follow them to the survivor, so the app keeps its inbox
registerMergeHook(async (tx, workspaceId, survivorId, mergedId) => {
  await tx.execute(sql`UPDATE in_app_messages SET customer_id = ${survivorId}
    WHERE workspace_id = ${workspaceId} AND customer_id = ${mergedId}`);
});

const Expiry = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** Publishes the new message, or only its id when it is too large for the bus. */
async function announce(tx: Db, row: MessageRow, workspaceId: string): Promise<void> {
  const topic = appTopic(workspaceId, row.customerId);
  const full: AppStreamEvent = { type: "message", message: presentMessage(row) };
  try {
    await publishInTransaction(tx, topic, full);
  } catch (err) {
    // the encoder refuses before any statement runs, so the transaction is still usable
    if (!isAppError(err, "realtime.message_too_large")) throw err;
    const ref: AppStreamEvent = { type: "message_ref", id: row.id };
    await publishInTransaction(tx, topic, ref);
  }
}

/**
 * The in-app message center as a provider (Airship Message Center-like): a send stores the
 * message in the customer's message center (once per delivery, whatever the retries) and
 * tells the customer's open app streams. `content.data.expiresAt` (ISO) sets an expiry.
 * Must be called outside any transaction on `db` (it opens its own).
 */
export function createInAppProvider(db: Db): Provider {
  return {
    kind: "in_app",
    async send(message) {
      const rawExpiry = message.content.data?.expiresAt;
      if (rawExpiry !== undefined && !Expiry.safeParse(rawExpiry).success) {
        return {
          ok: false,
          retryable: false,
          reason: `invalid_expiry: data.expiresAt "${rawExpiry}" is not an ISO date or date-time with offset`,
        };
      }
      const id = await db.transaction(async (tx) => {
        const [inserted] = await rows<MessageRow>(
          tx,
          sql`INSERT INTO in_app_messages AS m
                (workspace_id, id, customer_id, delivery_id, title, body, data, expires_at)
              VALUES (${message.workspaceId}, ${uuidv7()}, ${message.customerId}, ${message.deliveryId},
                ${message.content.title ?? null}, ${message.content.text},
                ${JSON.stringify(message.content.data ?? {})}::jsonb, ${rawExpiry ?? null}::timestamptz)
              ON CONFLICT (workspace_id, delivery_id) DO NOTHING
              RETURNING ${MESSAGE_COLUMNS}`,
        );
        if (inserted) {
          await announce(tx, inserted, message.workspaceId);
          return inserted.id;
        }
        // a retry of a delivery already stored: same message, told to nobody twice
        const [existing] = await rows<{ id: string }>(
          tx,
          sql`SELECT id::text AS id FROM in_app_messages
              WHERE workspace_id = ${message.workspaceId} AND delivery_id = ${message.deliveryId}`,
        );
        if (!existing) throw new Error("an in-app message conflicted on its delivery yet is not there");
        return existing.id;
      });
      return { ok: true, providerMessageId: id, state: "delivered" };
    },
  };
}
