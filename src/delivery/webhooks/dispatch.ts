import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookPayload } from "../../contracts/webhooks.ts";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { uuidv7 } from "../../ids.ts";
import { webhookEndpoints, webhookMessages } from "../tables.ts";
import { enqueueAttempts } from "./job.ts";

/** A delivery body larger than this is refused when emitted: receivers commonly cap at 1 MB. */
export const MAX_WEBHOOK_PAYLOAD_BYTES = 256 * 1024;

export type EmitOptions = {
  /** The job queue of the deliveries (default `webhooks`); retries stay on it. */
  queue?: string;
};

/** A message id, which is also the `webhook-id` header: `msg_` and a time-ordered UUID. */
export function newMessageId(): string {
  return `msg_${uuidv7()}`;
}

function buildPayload(type: string, data: Record<string, unknown>): WebhookPayload {
  if (!isWebhookEventType(type)) {
    throw new AppError(
      "webhooks.unknown_event_type",
      `"${type}" is not a webhook event type; add it to WEBHOOK_EVENT_TYPES or use one of ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
      { type },
    );
  }
  const payload: WebhookPayload = { type, timestamp: new Date().toISOString(), data };
  const size = Buffer.byteLength(JSON.stringify(payload));
  if (size > MAX_WEBHOOK_PAYLOAD_BYTES) {
    throw new AppError(
      "webhooks.payload_too_large",
      `The ${type} event is ${size} bytes once encoded; webhook payloads are limited to ${MAX_WEBHOOK_PAYLOAD_BYTES}. ` +
        "Send ids and let the receiver fetch the rest through the API.",
      { type, size },
    );
  }
  return payload;
}

async function insertMessages(
  tx: Db,
  workspaceId: string,
  endpointIds: string[],
  payload: WebhookPayload,
  options: EmitOptions,
): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  const messages = endpointIds.map((endpointId) => ({
    workspaceId,
    id: newMessageId(),
    endpointId,
    eventType: payload.type,
    payload,
  }));
  await tx.insert(webhookMessages).values(messages);
  await enqueueAttempts(
    tx,
    messages.map((m) => ({ workspaceId, messageId: m.id, attempt: 1 })),
    { queue: options.queue },
  );
  return messages.map((m) => m.id);
}

/**
 * Tells the workspace's webhook endpoints that something happened. Call it INSIDE the
 * transaction of the change: it writes one message per enabled endpoint subscribed to `type`
 * (no event types = all) and the job that delivers it, so a rolled-back change tells no one.
 * Returns how many endpoints will hear of it.
 */
export async function emitWebhookEvent(
  tx: Db,
  workspaceId: string,
  type: string,
  data: Record<string, unknown>,
  options: EmitOptions = {},
): Promise<number> {
  const payload = buildPayload(type, data);
  const endpoints = await tx
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.workspaceId, workspaceId),
        isNull(webhookEndpoints.disabledAt),
        sql`(${webhookEndpoints.eventTypes} = '[]'::jsonb OR ${webhookEndpoints.eventTypes} @> jsonb_build_array(${type}::text))`,
      ),
    );
  const ids = await insertMessages(
    tx,
    workspaceId,
    endpoints.map((e) => e.id),
    payload,
    options,
  );
  return ids.length;
}

/** The workspace's enabled endpoints and what each subscribes to, as JSON (for `emitWebhookEventsTo`). */
export function enabledEndpointsExpression(workspaceId: string): SQL {
  return sql`(SELECT coalesce(json_agg(json_build_object('id', id, 'eventTypes', event_types)), '[]'::json)
    FROM webhook_endpoints WHERE workspace_id = ${workspaceId} AND disabled_at IS NULL)`;
}

const Endpoints = z.array(z.object({ id: z.string(), eventTypes: z.array(z.string()) }));

/**
 * `emitWebhookEvent` for several events of one change (a conversation opened by its first
 * message), to the endpoints the caller read with `enabledEndpointsExpression` in the same
 * transaction; nothing is written when there are none.
 */
export async function emitWebhookEventsTo(
  tx: Db,
  workspaceId: string,
  endpoints: unknown,
  events: ReadonlyArray<{ type: string; data: Record<string, unknown> }>,
  options: EmitOptions = {},
): Promise<number> {
  const payloads = events.map((e) => buildPayload(e.type, e.data));
  const list = Endpoints.parse(endpoints);
  let count = 0;
  for (const payload of payloads) {
    const to = list.filter((e) => e.eventTypes.length === 0 || e.eventTypes.includes(payload.type));
    count += (
      await insertMessages(
        tx,
        workspaceId,
        to.map((e) => e.id),
        payload,
        options,
      )
    ).length;
  }
  return count;
}

/**
 * Sends one event to one endpoint whatever it subscribes to (the "send a test event" button).
 * Runs in the caller's transaction; returns the message id.
 */
export async function emitToEndpoint(
  tx: Db,
  workspaceId: string,
  endpointId: string,
  type: string,
  data: Record<string, unknown>,
  options: EmitOptions = {},
): Promise<string> {
  const [id] = await insertMessages(tx, workspaceId, [endpointId], buildPayload(type, data), options);
  if (!id) throw new Error("unreachable: one message per endpoint");
  return id;
}
