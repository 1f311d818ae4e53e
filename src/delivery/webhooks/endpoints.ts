import { and, count, desc, eq } from "drizzle-orm";
import { z } from "zod";
import {
  isWebhookEventType,
  WEBHOOK_EVENT_TYPES,
  WebhookEndpointInput,
  WebhookEndpointPatch,
  type WebhookEndpointView,
} from "../../contracts/webhooks.ts";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { isUuid, uuidv7 } from "../../ids.ts";
import { recordAudit } from "../../platform/audit.ts";
import type { Actor } from "../../platform/roles.ts";
import { webhookEndpoints, webhookMessages } from "../tables.ts";
import { newWebhookSecret } from "./sign.ts";
import { checkDestination, type Resolve } from "./ssrf.ts";

type EndpointRow = typeof webhookEndpoints.$inferSelect;

/** What admin actions take besides their input: where the call came from, and DNS for tests. */
export type EndpointOptions = { ip?: string | null | undefined; resolve?: Resolve | undefined };

/** Every event fans out to each endpoint: a cap keeps one event from becoming thousands of requests. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 50;

/** An endpoint as the API shows it, secret included; the route drops it for agents. */
export function presentEndpoint(row: EndpointRow): WebhookEndpointView & { secret: string } {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    allowPrivate: row.allowPrivate,
    enabled: row.disabledAt === null,
    disabledAt: row.disabledAt,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    secret: row.secret,
  };
}

function canManage(actor: Actor): boolean {
  return actor.kind !== "user" || actor.role === "owner" || actor.role === "admin";
}

function assertCanManage(actor: Actor): void {
  if (!canManage(actor)) {
    throw new AppError("webhooks.forbidden", "Only owners and admins manage webhook endpoints.");
  }
}

function assertCanAllowPrivate(actor: Actor): void {
  // an API key acts as the whole workspace, as everywhere else in the API
  if (!canManage(actor)) {
    throw new AppError(
      "webhooks.allow_private_forbidden",
      "Only owners and admins can allow an endpoint to reach private addresses (allowPrivate).",
    );
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AppError("webhooks.invalid_input", z.prettifyError(parsed.error));
  return parsed.data;
}

function checkEventTypes(types: string[] | undefined): string[] | undefined {
  if (types === undefined) return undefined;
  const unknown = types.filter((t) => !isWebhookEventType(t));
  if (unknown.length > 0) {
    throw new AppError(
      "webhooks.unknown_event_type",
      `Unknown event type${unknown.length > 1 ? "s" : ""} ${unknown.map((t) => `"${t}"`).join(", ")}; ` +
        `known types are ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
      { unknown },
    );
  }
  return [...new Set(types)];
}

function auditActor(actor: Actor) {
  return actor.kind === "system" ? { kind: "system" as const } : { kind: actor.kind, id: actor.id };
}

function describeActor(actor: Actor): string {
  if (actor.kind === "user") return `user ${actor.id}`;
  if (actor.kind === "api_key") return `API key ${actor.id}`;
  return "Rapport";
}

async function findRow(db: Db, workspaceId: string, id: string): Promise<EndpointRow> {
  const [row] = isUuid(id)
    ? await db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
    : [];
  if (!row)
    throw new AppError("webhooks.endpoint_not_found", "No webhook endpoint with that id in this workspace.", {
      id,
    });
  return row;
}

/**
 * Creates an endpoint after checking its URL (scheme, credentials, and every address its host
 * resolves to). Returns it with its new `whsec_` secret, which admins give to the receiver.
 */
export async function createEndpoint(
  db: Db,
  workspaceId: string,
  input: WebhookEndpointInput,
  actor: Actor,
  options: EndpointOptions = {},
): Promise<WebhookEndpointView & { secret: string }> {
  const body = parse(WebhookEndpointInput, input);
  if (body.allowPrivate) assertCanAllowPrivate(actor);
  assertCanManage(actor);
  const eventTypes = checkEventTypes(body.eventTypes) ?? [];
  const allowPrivate = body.allowPrivate ?? false;
  // DNS is network I/O: done before the transaction opens
  const destination = await checkDestination(body.url, { allowPrivate, resolve: options.resolve });
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.workspaceId, workspaceId));
    if ((existing?.n ?? 0) >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw new AppError(
        "webhooks.too_many_endpoints",
        `A workspace has at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints; delete one you no longer use.`,
      );
    }
    const now = new Date();
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        workspaceId,
        id: uuidv7(),
        url: destination.url.toString(),
        description: body.description ?? "",
        secret: newWebhookSecret(),
        eventTypes,
        allowPrivate,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error("the insert returned no row");
    await recordAudit(tx, {
      workspaceId,
      actor: auditActor(actor),
      action: "webhook_endpoint.created",
      target: { kind: "webhook_endpoint", id: row.id },
      details: { url: row.url, eventTypes, allowPrivate },
      ip: options.ip,
    });
    return presentEndpoint(row);
  });
}

/** The workspace's endpoints, newest first. */
export async function listEndpoints(
  db: Db,
  workspaceId: string,
): Promise<Array<WebhookEndpointView & { secret: string }>> {
  const found = await db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.workspaceId, workspaceId))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
  return found.map(presentEndpoint);
}

/** One endpoint, or `webhooks.endpoint_not_found`. */
export async function getEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<WebhookEndpointView & { secret: string }> {
  return presentEndpoint(await findRow(db, workspaceId, id));
}

/**
 * Changes an endpoint. A new URL, or taking `allowPrivate` away, is checked again; `enabled:
 * true` re-enables it (clearing why it was disabled, a 410 Gone included).
 */
export async function updateEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  patch: WebhookEndpointPatch,
  actor: Actor,
  options: EndpointOptions = {},
): Promise<WebhookEndpointView & { secret: string }> {
  const body = parse(WebhookEndpointPatch, patch);
  if (body.allowPrivate !== undefined) assertCanAllowPrivate(actor);
  assertCanManage(actor);
  const eventTypes = checkEventTypes(body.eventTypes);
  const current = await findRow(db, workspaceId, id);
  const allowPrivate = body.allowPrivate ?? current.allowPrivate;
  let url: string | undefined;
  if (body.url !== undefined || body.allowPrivate !== undefined) {
    url = (
      await checkDestination(body.url ?? current.url, { allowPrivate, resolve: options.resolve })
    ).url.toString();
  }
  const now = new Date();
  const disabling =
    body.enabled === false && current.disabledAt === null
      ? { disabledAt: now, disabledReason: `disabled by ${describeActor(actor)}` }
      : {};
  const enabling = body.enabled === true ? { disabledAt: null, disabledReason: null } : {};
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(eventTypes !== undefined ? { eventTypes } : {}),
        allowPrivate,
        ...disabling,
        ...enabling,
        updatedAt: now,
      })
      .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, current.id)))
      .returning();
    if (!row)
      throw new AppError("webhooks.endpoint_not_found", "The webhook endpoint was deleted meanwhile.", {
        id,
      });
    await recordAudit(tx, {
      workspaceId,
      actor: auditActor(actor),
      action: "webhook_endpoint.updated",
      target: { kind: "webhook_endpoint", id: row.id },
      details: {
        changes: Object.entries(body)
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k),
        url: row.url,
        enabled: row.disabledAt === null,
      },
      ip: options.ip,
    });
    return presentEndpoint(row);
  });
}

/**
 * Replaces an endpoint's secret at once: every attempt from now on, retries of older messages
 * included, is signed with the new one.
 */
export async function rotateSecret(
  db: Db,
  workspaceId: string,
  id: string,
  actor: Actor,
  options: EndpointOptions = {},
): Promise<WebhookEndpointView & { secret: string }> {
  assertCanManage(actor);
  const current = await findRow(db, workspaceId, id);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ secret: newWebhookSecret(), updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, current.id)))
      .returning();
    if (!row)
      throw new AppError("webhooks.endpoint_not_found", "The webhook endpoint was deleted meanwhile.", {
        id,
      });
    await recordAudit(tx, {
      workspaceId,
      actor: auditActor(actor),
      action: "webhook_endpoint.secret_rotated",
      target: { kind: "webhook_endpoint", id: row.id },
      ip: options.ip,
    });
    return presentEndpoint(row);
  });
}

/** Deletes an endpoint and its messages; their pending jobs find nothing to send and end. */
export async function deleteEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  actor: Actor,
  options: EndpointOptions = {},
): Promise<WebhookEndpointView> {
  assertCanManage(actor);
  const current = await findRow(db, workspaceId, id);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, current.id)))
      .returning();
    if (!row)
      throw new AppError("webhooks.endpoint_not_found", "The webhook endpoint was already deleted.", { id });
    await tx
      .delete(webhookMessages)
      .where(and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.endpointId, row.id)));
    await recordAudit(tx, {
      workspaceId,
      actor: auditActor(actor),
      action: "webhook_endpoint.deleted",
      target: { kind: "webhook_endpoint", id: row.id },
      details: { url: row.url },
      ip: options.ip,
    });
    const { secret: _secret, ...view } = presentEndpoint(row);
    return view;
  });
}
