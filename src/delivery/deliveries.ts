import { sql } from "drizzle-orm";
import type { Channel } from "../consent/tables.ts";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { validateProviderConfig } from "./providers/registry.ts";
import type { DeliveryState, GateRecord, RenderedContent } from "./tables.ts";

export type DeliveryView = {
  id: string;
  customerId: string;
  channel: Channel | null;
  topic: string;
  kind: "marketing" | "transactional";
  state: DeliveryState;
  gate: GateRecord;
  address: string | null;
  content: RenderedContent | null;
  language: string | null;
  deferredUntil: string | null;
  provider: string | null;
  providerMessageId: string | null;
  attempts: number;
  error: { reason: string; retryable?: boolean } | null;
  source: string;
  sourceRef: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
};

const COLUMNS = sql`d.id::text AS id, d.customer_id::text AS "customerId", d.channel, d.request->>'topic' AS topic,
  d.kind, d.state, d.gate, d.address, d.content, d.language, d.deferred_until AS "deferredUntil", d.provider,
  d.provider_message_id AS "providerMessageId", d.attempts, d.error, d.source, d.source_ref AS "sourceRef",
  d.created_at AS "createdAt", d.updated_at AS "updatedAt", d.sent_at AS "sentAt"`;

type Raw = Omit<DeliveryView, "createdAt" | "updatedAt" | "sentAt" | "deferredUntil"> & {
  createdAt: string | Date;
  updatedAt: string | Date;
  sentAt: string | Date | null;
  deferredUntil: string | Date | null;
};

const iso = (v: string | Date) => new Date(v).toISOString();
function present(r: Raw): DeliveryView {
  return {
    ...r,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    sentAt: r.sentAt ? iso(r.sentAt) : null,
    deferredUntil: r.deferredUntil ? iso(r.deferredUntil) : null,
  };
}

/** One delivery with its history, oldest first. */
export async function getDelivery(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<
  DeliveryView & { events: Array<{ state: string; details: Record<string, unknown>; at: string }> }
> {
  if (!isUuid(id)) throw new AppError("delivery.invalid_id", `"${id}" is not a delivery id (a UUID).`);
  const [row] = await rows<Raw>(
    db,
    sql`SELECT ${COLUMNS} FROM deliveries d WHERE d.workspace_id = ${workspaceId} AND d.id = ${id}`,
  );
  if (!row)
    throw new AppError("delivery.delivery_not_found", "No delivery with that id in this workspace.", { id });
  const events = await rows<{ state: string; details: Record<string, unknown>; at: string | Date }>(
    db,
    sql`SELECT state, details, created_at AS at FROM delivery_events
        WHERE workspace_id = ${workspaceId} AND delivery_id = ${id} ORDER BY created_at, id`,
  );
  return { ...present(row), events: events.map((e) => ({ ...e, at: iso(e.at) })) };
}

/** Page of deliveries, newest first: one customer's, the sandbox outbox, or all. */
/**
 * Whether a provider's message id is one of the workspace's deliveries: how a channel tells
 * the echo of Rapport's own reply (a Messenger echo, the brand's tweet) from one sent elsewhere.
 */
export async function isOwnProviderMessage(
  db: Db,
  workspaceId: string,
  provider: string,
  providerMessageId: string,
): Promise<boolean> {
  const [row] = await rows<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM deliveries
        WHERE workspace_id = ${workspaceId} AND provider = ${provider} AND provider_message_id = ${providerMessageId}
        LIMIT 1`,
  );
  return row !== undefined;
}

export async function listDeliveries(
  db: Db,
  workspaceId: string,
  filter: { customerId?: string; provider?: string; limit: number; before?: string },
): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
  if (filter.customerId !== undefined && !isUuid(filter.customerId)) {
    throw new AppError("delivery.invalid_id", `"${filter.customerId}" is not a customer id (a UUID).`);
  }
  if (filter.before !== undefined && !isUuid(filter.before)) {
    throw new AppError(
      "delivery.invalid_cursor",
      "The cursor is not one this API gave out; start again without it.",
    );
  }
  const found = await rows<Raw>(
    db,
    sql`SELECT ${COLUMNS} FROM deliveries d
        WHERE d.workspace_id = ${workspaceId}
          ${filter.customerId ? sql`AND d.customer_id = ${filter.customerId}` : sql``}
          ${filter.provider ? sql`AND d.provider = ${filter.provider}` : sql``}
          ${filter.before ? sql`AND d.id < ${filter.before}` : sql``}
        ORDER BY d.id DESC LIMIT ${filter.limit + 1}`,
  );
  const page = found.slice(0, filter.limit).map(present);
  return { data: page, nextCursor: found.length > filter.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Sets (or replaces) the provider of a channel after checking its configuration. */
export async function setProvider(
  db: Db,
  workspaceId: string,
  channel: Channel,
  kind: string,
  config: Record<string, unknown>,
): Promise<void> {
  const checked = validateProviderConfig(channel, kind, config);
  await db.execute(sql`INSERT INTO delivery_providers (workspace_id, channel, kind, config, updated_at)
    VALUES (${workspaceId}, ${channel}, ${checked}, ${JSON.stringify(config)}::jsonb, clock_timestamp())
    ON CONFLICT (workspace_id, channel) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config,
      updated_at = clock_timestamp()`);
}

/** The configured providers, secrets left out (a provider not listed is the sandbox). */
export async function listProviders(
  db: Db,
  workspaceId: string,
): Promise<Array<{ channel: Channel; kind: string; updatedAt: string }>> {
  const found = await rows<{ channel: Channel; kind: string; updatedAt: string | Date }>(
    db,
    sql`SELECT channel, kind, updated_at AS "updatedAt" FROM delivery_providers
        WHERE workspace_id = ${workspaceId} ORDER BY channel`,
  );
  return found.map((f) => ({ ...f, updatedAt: iso(f.updatedAt) }));
}
