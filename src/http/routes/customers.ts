import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  ConflictRecord,
  Customer,
  Identity,
  Limit,
  MergeRecord,
  Page,
  TimelineEvent,
} from "../../contracts/customers.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../../platform/audit.ts";
import {
  customerMerges,
  customerTimeline,
  getCustomer,
  listConflicts,
  listCustomers,
} from "../../profiles/customers.ts";
import { mergeCustomers } from "../../profiles/merge.ts";
import { requireAuth } from "../auth.ts";

const IdParams = z.object({
  id: z.string().describe("A customer id; a merged id answers with its survivor."),
});
const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["customers"];

/** `plan:pro` → ["plan", "pro"]; refuses anything without a key. */
function parseTraitFilters(raw: string | string[] | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of Array.isArray(raw) ? raw : [raw]) {
    const at = item.indexOf(":");
    if (at < 1) {
      throw new AppError(
        "request.invalid",
        `trait filter "${item}" must be written key:value, e.g. trait=plan:pro.`,
      );
    }
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

export const customerRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/customers",
    {
      schema: {
        tags,
        security,
        summary: "List or search customers",
        description:
          "Newest first. Filters combine with AND. Pass `nextCursor` back as `cursor` for the next page.",
        querystring: z.object({
          email: z.string().optional(),
          phone: z.string().optional(),
          userId: z.string().optional(),
          name: z.string().min(1).optional().describe("Part of a name or email, any case."),
          trait: z
            .union([z.string(), z.array(z.string())])
            .optional()
            .describe("key:value, repeatable."),
          limit: Limit,
          cursor: z.string().optional(),
        }),
        response: { 200: Page(Customer) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const q = request.query;
      return listCustomers(
        db(),
        p.workspaceId,
        {
          email: q.email,
          phone: q.phone,
          userId: q.userId,
          name: q.name,
          traits: parseTraitFilters(q.trait),
          limit: q.limit,
          cursor: q.cursor,
        },
        app.ctx.config.defaultCountry,
      );
    },
  );

  app.get(
    "/api/v1/customers/:id",
    {
      schema: {
        tags,
        security,
        summary: "Get a customer",
        params: IdParams,
        response: { 200: Customer.extend({ requestedId: z.string() }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return getCustomer(db(), p.workspaceId, request.params.id);
    },
  );

  app.get(
    "/api/v1/customers/:id/identities",
    {
      schema: {
        tags,
        security,
        summary: "A customer's identities",
        params: IdParams,
        response: { 200: z.object({ data: z.array(Identity) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: (await getCustomer(db(), p.workspaceId, request.params.id)).identities };
    },
  );

  app.get(
    "/api/v1/customers/:id/traits",
    {
      schema: {
        tags,
        security,
        summary: "A customer's traits",
        params: IdParams,
        response: { 200: z.object({ data: z.record(z.string(), z.unknown()) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: (await getCustomer(db(), p.workspaceId, request.params.id)).traits };
    },
  );

  app.get(
    "/api/v1/customers/:id/events",
    {
      schema: {
        tags,
        security,
        summary: "A customer's timeline of events, newest first",
        params: IdParams,
        querystring: z.object({ limit: Limit, cursor: z.string().optional() }),
        response: { 200: Page(TimelineEvent) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return customerTimeline(db(), p.workspaceId, request.params.id, request.query);
    },
  );

  app.get(
    "/api/v1/customers/:id/merges",
    {
      schema: {
        tags,
        security,
        summary: "Profiles merged into this customer",
        params: IdParams,
        response: { 200: z.object({ data: z.array(MergeRecord) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: await customerMerges(db(), p.workspaceId, request.params.id) };
    },
  );

  app.post(
    "/api/v1/customers/:id/merge",
    {
      schema: {
        tags,
        security,
        summary: "Merge another customer into this one",
        description: "Refused with 409 when both hold different external user ids: they are two people.",
        params: IdParams,
        body: z.object({ mergedId: z.string().describe("The customer to fold into this one.") }),
        response: { 200: Customer.extend({ requestedId: z.string() }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: ["owner", "admin", "agent"] });
      const actor = p.kind === "user" ? `user:${p.userId}` : `api_key:${p.keyId}`;
      const merged = await mergeCustomers(
        db(),
        p.workspaceId,
        { survivorId: request.params.id, mergedId: request.body.mergedId, actor },
        (tx, m) =>
          recordAudit(tx, {
            workspaceId: p.workspaceId,
            actor: p.kind === "user" ? { kind: "user", id: p.userId } : { kind: "api_key", id: p.keyId },
            action: "customer.merged",
            target: { kind: "customer", id: m.survivorId },
            details: { mergedId: m.mergedId },
            ip: request.ip,
          }),
      );
      return getCustomer(db(), p.workspaceId, merged.survivorId);
    },
  );

  app.get(
    "/api/v1/identity-conflicts",
    {
      schema: {
        tags,
        security,
        summary: "Merges refused because they would join two external user ids",
        querystring: z.object({ customerId: z.string().optional(), limit: Limit }),
        response: { 200: z.object({ data: z.array(ConflictRecord) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: await listConflicts(db(), p.workspaceId, request.query) };
    },
  );
};
