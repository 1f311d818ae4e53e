import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { CHANNELS } from "../../consent/tables.ts";
import { Limit, Page } from "../../contracts/customers.ts";
import {
  PreviewRequest,
  PreviewResult,
  Template,
  TemplateInput,
  TemplatePatch,
} from "../../contracts/templates.ts";
import {
  createTemplate,
  deleteTemplate,
  getTemplateByKey,
  listTemplates,
  previewTemplate,
  updateTemplate,
} from "../../delivery/templates.ts";
import { ErrorBody } from "../../platform/contracts.ts";
import type { Role } from "../../platform/roles.ts";
import { actorOf, requireAuth } from "../auth.ts";

const EDITORS: Role[] = ["owner", "admin"];
const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["templates"];
const KeyParams = z.object({ key: z.string().max(200).describe("The template's key, e.g. order-shipped.") });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** Message templates: CRUD for admins and owners, reading and previews for every member. */
export const templateRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/templates",
    {
      schema: {
        tags,
        security,
        summary: "List templates",
        description: "In key order. Pass `nextCursor` back as `cursor` for the next page.",
        querystring: z.object({
          channel: z.enum(CHANNELS).optional(),
          limit: Limit,
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: Page(Template), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listTemplates(db(), p.workspaceId, request.query);
    },
  );

  app.post(
    "/api/v1/templates",
    {
      schema: {
        tags,
        security,
        summary: "Create a template",
        description:
          "Every field of every variant is Liquid and must parse; an email body starting with `<mjml>` must " +
          "compile. A mistake answers `delivery.template_invalid` naming the field, language and line.",
        body: TemplateInput,
        response: { 201: Template, ...errors, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: EDITORS });
      const created = await createTemplate(db(), p.workspaceId, request.body, {
        actor: actorOf(p),
        ip: request.ip,
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    "/api/v1/templates/:key",
    {
      schema: {
        tags,
        security,
        summary: "Get a template",
        params: KeyParams,
        response: { 200: Template, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return getTemplateByKey(db(), p.workspaceId, request.params.key);
    },
  );

  app.put(
    "/api/v1/templates/:key",
    {
      schema: {
        tags,
        security,
        summary: "Change a template",
        description:
          "Fields given replace the stored ones; `variants` replaces every variant. The key stays.",
        params: KeyParams,
        body: TemplatePatch,
        response: { 200: Template, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: EDITORS });
      return updateTemplate(db(), p.workspaceId, request.params.key, request.body, {
        actor: actorOf(p),
        ip: request.ip,
      });
    },
  );

  app.delete(
    "/api/v1/templates/:key",
    {
      schema: {
        tags,
        security,
        summary: "Delete a template",
        params: KeyParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: EDITORS });
      await deleteTemplate(db(), p.workspaceId, request.params.key, { actor: actorOf(p), ip: request.ip });
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/v1/templates/:key/preview",
    {
      schema: {
        tags,
        security,
        summary: "Render a template with sample data",
        description:
          "Chooses the variant for `language` and renders it as a send would, with the given traits, " +
          "identities and data, and placeholder preference and unsubscribe links. A render error answers " +
          "`delivery.template_render_failed` with the field and line.",
        params: KeyParams,
        body: PreviewRequest,
        response: { 200: PreviewResult, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return previewTemplate(db(), p.workspaceId, request.params.key, request.body);
    },
  );
};
