import { and, desc, eq, lt } from "drizzle-orm";
import type { WebhookMessageView } from "../../contracts/webhooks.ts";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../../platform/audit.ts";
import type { Actor } from "../../platform/roles.ts";
import { webhookMessages } from "../tables.ts";
import { type EmitOptions, emitToEndpoint } from "./dispatch.ts";
import { type EndpointOptions, getEndpoint } from "./endpoints.ts";

type MessageRow = typeof webhookMessages.$inferSelect;

function present(row: MessageRow): WebhookMessageView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventType: row.eventType,
    state: row.state,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    payload: row.payload,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * An endpoint's messages, newest first, with their attempts so far. `cursor` is the
 * `nextCursor` of the previous page (message ids are time-ordered).
 */
export async function listMessages(
  db: Db,
  workspaceId: string,
  endpointId: string,
  opts: { limit?: number; cursor?: string | undefined; state?: MessageRow["state"] | undefined } = {},
): Promise<{ data: WebhookMessageView[]; nextCursor: string | null }> {
  const endpoint = await getEndpoint(db, workspaceId, endpointId);
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const found = await db
    .select()
    .from(webhookMessages)
    .where(
      and(
        eq(webhookMessages.workspaceId, workspaceId),
        eq(webhookMessages.endpointId, endpoint.id),
        opts.cursor ? lt(webhookMessages.id, opts.cursor) : undefined,
        opts.state ? eq(webhookMessages.state, opts.state) : undefined,
      ),
    )
    .orderBy(desc(webhookMessages.id))
    .limit(limit + 1);
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return { data: page.map(present), nextCursor: found.length > limit && last ? last.id : null };
}

/** One message, or `webhooks.message_not_found`. */
export async function getMessage(db: Db, workspaceId: string, id: string): Promise<WebhookMessageView> {
  const [row] = await db
    .select()
    .from(webhookMessages)
    .where(and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.id, id)));
  if (!row)
    throw new AppError("webhooks.message_not_found", "No webhook message with that id in this workspace.", {
      id,
    });
  return present(row);
}

/**
 * Sends a `webhook.test` event to one endpoint only, whatever it subscribes to, so an admin
 * can check the receiver and its signature check. Refused for a disabled endpoint.
 */
export async function sendTestEvent(
  db: Db,
  workspaceId: string,
  endpointId: string,
  actor: Actor,
  options: EndpointOptions & EmitOptions = {},
): Promise<WebhookMessageView> {
  if (actor.kind === "user" && actor.role === "agent") {
    throw new AppError("webhooks.forbidden", "Only owners and admins send test events.");
  }
  const endpoint = await getEndpoint(db, workspaceId, endpointId);
  if (!endpoint.enabled) {
    throw new AppError(
      "webhooks.endpoint_disabled",
      `The endpoint is disabled (${endpoint.disabledReason ?? "by an admin"}); re-enable it with PATCH {"enabled": true} first.`,
      { id: endpoint.id },
    );
  }
  const id = await db.transaction(async (tx) => {
    const messageId = await emitToEndpoint(
      tx,
      workspaceId,
      endpoint.id,
      "webhook.test",
      { endpointId: endpoint.id, message: "A test event from Rapport: your endpoint is reachable." },
      options.queue ? { queue: options.queue } : {},
    );
    await recordAudit(tx, {
      workspaceId,
      actor: actor.kind === "system" ? actor : { kind: actor.kind, id: actor.id },
      action: "webhook_endpoint.test_sent",
      target: { kind: "webhook_endpoint", id: endpoint.id },
      details: { messageId },
      ip: options.ip,
    });
    return messageId;
  });
  return getMessage(db, workspaceId, id);
}
