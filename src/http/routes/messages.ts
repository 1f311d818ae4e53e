import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { CHANNELS } from "../../consent/tables.ts";
import { Limit, Page } from "../../contracts/customers.ts";
import {
  Delivery,
  DeliveryWithEvents,
  ProviderSetting,
  SendMessageBody,
  SendMessageResult,
} from "../../contracts/messages.ts";
import { getDelivery, listDeliveries, listProviders, setProvider } from "../../delivery/deliveries.ts";
import { sendMessage } from "../../delivery/send.ts";
import { AppError } from "../../errors.ts";
import { findByIdentifier } from "../../profiles/customers.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["messages"];

/**
 * Sending: one call passes a message through the Gate into the delivery ledger; deliveries
 * are read back with their history; the sandbox outbox shows what the sandbox provider "sent".
 */
export const messageRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.post(
    "/api/v1/messages",
    {
      schema: {
        tags,
        security,
        summary: "Send a message to a customer",
        description:
          "The Gate decides whether, when and on which channel; the answer carries the decision and the delivery id. " +
          "An `Idempotency-Key` header is required: the same key never sends twice, and reusing it for another request answers 422.",
        headers: z.object({ "idempotency-key": z.string().min(1).max(255).optional() }),
        body: SendMessageBody,
        response: { 200: SendMessageResult, 202: SendMessageResult },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const key = request.headers["idempotency-key"];
      if (!key) {
        throw new AppError(
          "delivery.idempotency_key_required",
          "Send an Idempotency-Key header (any unique string up to 255 characters, e.g. a UUID) so a retried request never sends twice.",
        );
      }
      const { to, ...body } = request.body;
      let customerId = to.customerId;
      if (!customerId) {
        const [kind, value] = to.userId
          ? (["user_id", to.userId] as const)
          : to.email
            ? (["email", to.email] as const)
            : (["phone", to.phone ?? ""] as const);
        const found = await findByIdentifier(db(), p.workspaceId, kind, value, app.ctx.config.defaultCountry);
        if (!found) {
          throw new AppError(
            "delivery.customer_not_found",
            `No customer has the ${kind} "${value}" in this workspace.`,
          );
        }
        customerId = found.id;
      }
      const outcome = await sendMessage(
        db(),
        p.workspaceId,
        {
          ...body,
          data: body.data ?? {},
          customerId,
          idempotencyKey: key,
          source: p.kind === "user" ? "agent" : "api",
          ...(p.kind === "user" ? { sourceRef: p.userId } : {}),
        },
        { publicUrl: app.ctx.config.publicUrl },
      );
      reply.status(outcome.replayed ? 200 : 202);
      return outcome;
    },
  );

  app.get(
    "/api/v1/deliveries/:id",
    {
      schema: {
        tags,
        security,
        summary: "A delivery and its history",
        params: z.object({ id: z.string() }),
        response: { 200: DeliveryWithEvents },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return getDelivery(db(), p.workspaceId, request.params.id);
    },
  );

  app.get(
    "/api/v1/customers/:id/deliveries",
    {
      schema: {
        tags,
        security,
        summary: "Messages sent (or not) to a customer, newest first",
        params: z.object({ id: z.string() }),
        querystring: z.object({ limit: Limit, cursor: z.string().optional() }),
        response: { 200: Page(Delivery) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listDeliveries(db(), p.workspaceId, {
        customerId: request.params.id,
        limit: request.query.limit,
        ...(request.query.cursor ? { before: request.query.cursor } : {}),
      });
    },
  );

  app.get(
    "/api/v1/sandbox/outbox",
    {
      schema: {
        tags,
        security,
        summary: "Every message the sandbox provider sent, newest first",
        querystring: z.object({ limit: Limit, cursor: z.string().optional() }),
        response: { 200: Page(Delivery) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listDeliveries(db(), p.workspaceId, {
        provider: "sandbox",
        limit: request.query.limit,
        ...(request.query.cursor ? { before: request.query.cursor } : {}),
      });
    },
  );

  app.get(
    "/api/v1/providers",
    {
      schema: {
        tags,
        security,
        summary: "Configured providers per channel (secrets left out); others use the sandbox",
        response: {
          200: z.object({
            data: z.array(z.object({ channel: z.enum(CHANNELS), kind: z.string(), updatedAt: z.string() })),
          }),
        },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      return { data: await listProviders(db(), p.workspaceId) };
    },
  );

  app.put(
    "/api/v1/providers/:channel",
    {
      schema: {
        tags,
        security,
        summary: "Set the provider of a channel",
        params: z.object({ channel: z.enum(CHANNELS) }),
        body: ProviderSetting,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      await setProvider(db(), p.workspaceId, request.params.channel, request.body.kind, request.body.config);
      reply.status(204).send(null);
    },
  );
};
