import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  CannedResponseInput,
  CannedResponsePatch,
  CannedResponseQuery,
  createCannedResponse,
  deleteCannedResponse,
  getCannedResponse,
  listCannedResponses,
  RenderInput,
  renderCannedResponse,
  updateCannedResponse,
} from "../../conversations/canned-responses.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["canned responses"];
const Id = z.object({ id: z.string() });
const admins: Array<"owner" | "admin"> = ["owner", "admin"];

/**
 * Canned responses: saved replies agents insert by shortcut. Every agent reads and renders
 * them; owners and admins write them.
 */
export const cannedResponseRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/canned-responses",
    {
      schema: {
        tags,
        security,
        summary: "Canned responses by shortcut, or those matching `q`",
        querystring: CannedResponseQuery,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listCannedResponses(db(), p.workspaceId, request.query);
    },
  );

  app.post(
    "/api/v1/canned-responses",
    { schema: { tags, security, summary: "Create a canned response", body: CannedResponseInput } },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: admins });
      reply.status(201);
      return createCannedResponse(db(), p.workspaceId, request.body, p.kind === "user" ? p.userId : null);
    },
  );

  app.get(
    "/api/v1/canned-responses/:id",
    { schema: { tags, security, summary: "A canned response", params: Id } },
    async (request) => {
      const p = await requireAuth(request);
      return getCannedResponse(db(), p.workspaceId, request.params.id);
    },
  );

  app.patch(
    "/api/v1/canned-responses/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change a canned response's shortcut, title or body",
        params: Id,
        body: CannedResponsePatch,
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: admins });
      return updateCannedResponse(
        db(),
        p.workspaceId,
        request.params.id,
        request.body,
        p.kind === "user" ? p.userId : null,
      );
    },
  );

  app.delete(
    "/api/v1/canned-responses/:id",
    { schema: { tags, security, summary: "Delete a canned response", params: Id } },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: admins });
      await deleteCannedResponse(db(), p.workspaceId, request.params.id);
      reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/canned-responses/:id/render",
    {
      schema: {
        tags,
        security,
        summary: "The text to insert: the body rendered for a conversation's customer and you",
        params: Id,
        body: RenderInput,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return renderCannedResponse(
        db(),
        p.workspaceId,
        request.params.id,
        request.body,
        p.kind === "user" ? p.userId : null,
      );
    },
  );
};
