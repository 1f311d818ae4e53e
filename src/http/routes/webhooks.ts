import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_MESSAGE_STATES,
  WebhookEndpointInput,
  WebhookEndpointPatch,
  WebhookEndpointView,
  WebhookMessageView,
} from "../../contracts/webhooks.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from "../../delivery/webhooks/endpoints.ts";
import { listMessages, sendTestEvent } from "../../delivery/webhooks/messages.ts";
import { ErrorBody } from "../../platform/contracts.ts";
import type { Role } from "../../platform/roles.ts";
import { actorOf, type Principal, requireAuth } from "../auth.ts";

const MANAGERS: Role[] = ["owner", "admin"];
const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["webhooks"];
const IdParams = z.object({ id: z.uuid("must be a webhook endpoint id (a UUID)") });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const Endpoint = z.object({ endpoint: WebhookEndpointView });

/** Agents may look at endpoints, never at their secrets (a secret lets anyone forge deliveries). */
function forCaller(p: Principal, endpoint: WebhookEndpointView): WebhookEndpointView {
  if (p.kind === "user" && p.role === "agent") {
    const { secret: _secret, ...rest } = endpoint;
    return rest;
  }
  return endpoint;
}

/** Outbound webhook endpoints (Standard Webhooks) and their messages. */
export const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/webhooks/event-types",
    {
      schema: {
        tags,
        security,
        summary: "Event types endpoints can subscribe to",
        response: { 200: z.object({ data: z.array(z.string()) }), ...errors },
      },
    },
    async (request) => {
      await requireAuth(request);
      return { data: [...WEBHOOK_EVENT_TYPES] };
    },
  );

  app.get(
    "/api/v1/webhooks/endpoints",
    {
      schema: {
        tags,
        security,
        summary: "List webhook endpoints",
        description: "Every role may read them; secrets are shown to owners, admins and secret keys only.",
        response: { 200: z.object({ data: z.array(WebhookEndpointView) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: (await listEndpoints(db(), p.workspaceId)).map((e) => forCaller(p, e)) };
    },
  );

  app.post(
    "/api/v1/webhooks/endpoints",
    {
      schema: {
        tags,
        security,
        summary: "Create a webhook endpoint",
        description:
          "Owners and admins only. Deliveries follow Standard Webhooks: verify `webhook-signature` with the " +
          "returned `secret` (`whsec_…`) using any Standard Webhooks library. URLs that resolve to internal " +
          "addresses are refused (`webhooks.url_forbidden`) unless `allowPrivate` is set.",
        body: WebhookEndpointInput,
        response: { 201: Endpoint, ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const endpoint = await createEndpoint(db(), p.workspaceId, request.body, actorOf(p), {
        ip: request.ip,
      });
      return reply.status(201).send({ endpoint });
    },
  );

  app.get(
    "/api/v1/webhooks/endpoints/:id",
    {
      schema: {
        tags,
        security,
        summary: "Get a webhook endpoint",
        params: IdParams,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { endpoint: forCaller(p, await getEndpoint(db(), p.workspaceId, request.params.id)) };
    },
  );

  app.patch(
    "/api/v1/webhooks/endpoints/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change a webhook endpoint, or disable / re-enable it",
        description: "Owners and admins only. A new URL is checked like a new endpoint's.",
        params: IdParams,
        body: WebhookEndpointPatch,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const endpoint = await updateEndpoint(
        db(),
        p.workspaceId,
        request.params.id,
        request.body,
        actorOf(p),
        {
          ip: request.ip,
        },
      );
      return { endpoint };
    },
  );

  app.delete(
    "/api/v1/webhooks/endpoints/:id",
    {
      schema: {
        tags,
        security,
        summary: "Delete a webhook endpoint",
        description: "Owners and admins only. Its messages are deleted with it; pending retries stop.",
        params: IdParams,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      return {
        endpoint: await deleteEndpoint(db(), p.workspaceId, request.params.id, actorOf(p), {
          ip: request.ip,
        }),
      };
    },
  );

  app.post(
    "/api/v1/webhooks/endpoints/:id/rotate-secret",
    {
      schema: {
        tags,
        security,
        summary: "Replace an endpoint's signing secret",
        description: "Owners and admins only. Takes effect at once, for retries of older messages too.",
        params: IdParams,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      return {
        endpoint: await rotateSecret(db(), p.workspaceId, request.params.id, actorOf(p), { ip: request.ip }),
      };
    },
  );

  app.get(
    "/api/v1/webhooks/endpoints/:id/messages",
    {
      schema: {
        tags,
        security,
        summary: "An endpoint's recent messages and their attempts",
        description: "Newest first. Pass `nextCursor` back as `cursor` for the next page.",
        params: IdParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(100).optional(),
          state: z.enum(WEBHOOK_MESSAGE_STATES).optional(),
        }),
        response: {
          200: z.object({ data: z.array(WebhookMessageView), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listMessages(db(), p.workspaceId, request.params.id, request.query);
    },
  );

  app.post(
    "/api/v1/webhooks/endpoints/:id/test",
    {
      schema: {
        tags,
        security,
        summary: "Send a test event to one endpoint",
        description:
          "Owners and admins only. Emits a `webhook.test` event to this endpoint only, whatever it subscribes to; " +
          "follow it in the endpoint's messages.",
        params: IdParams,
        response: { 202: z.object({ message: WebhookMessageView }), ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const message = await sendTestEvent(db(), p.workspaceId, request.params.id, actorOf(p), {
        ip: request.ip,
      });
      return reply.status(202).send({ message });
    },
  );
};
