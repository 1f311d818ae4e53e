import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { listAgents, listLabels, listTeams } from "../../conversations/directory.ts";
import { SearchQuery, search } from "../../conversations/search.ts";
import { CONVERSATION_STATUSES } from "../../conversations/tables.ts";
import { ErrorBody } from "../../platform/contracts.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

export const TeamItem = z.object({ id: z.uuid(), name: z.string(), memberIds: z.array(z.uuid()) });
export const LabelItem = z.object({
  name: z.string(),
  count: z.number().int().describe("Conversations carrying the label, whatever their status."),
  open: z.number().int().describe("Of those, the open and pending ones."),
});
export const AgentItem = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  role: z.enum(["owner", "admin", "agent"]),
});
export const CustomerHit = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  matched: z.enum(["email", "phone", "identity", "name"]),
});
export const ConversationHit = z.object({
  id: z.uuid(),
  number: z.number().int(),
  subject: z.string().nullable(),
  channel: z.string().nullable(),
  status: z.enum(CONVERSATION_STATUSES),
  customerId: z.uuid(),
  customerName: z.string().nullable(),
  snippet: z.string().nullable(),
  matched: z.enum(["number", "subject", "message"]),
  lastMessageAt: z.string(),
});
export const SearchResult = z.object({
  customers: z.array(CustomerHit),
  conversations: z.array(ConversationHit),
});

/**
 * The lists an agent's screens pick from (teams, labels in use, the agents to assign or
 * mention) and the search box. Every role reads them; none carries a secret.
 */
export const inboxListRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/teams",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "The workspace's teams and their members",
        response: { 200: z.object({ data: z.array(TeamItem) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: await listTeams(db(), p.workspaceId) };
    },
  );

  app.get(
    "/api/v1/labels",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "The labels the workspace's conversations carry, by name, with counts",
        response: { 200: z.object({ data: z.array(LabelItem) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: await listLabels(db(), p.workspaceId) };
    },
  );

  app.get(
    "/api/v1/agents",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "The active members to assign conversations to or mention in notes",
        description: "Every role may read it; managing users stays with owners and admins (`/api/v1/users`).",
        response: { 200: z.object({ data: z.array(AgentItem) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { data: await listAgents(db(), p.workspaceId) };
    },
  );

  app.get(
    "/api/v1/search",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "Find customers and conversations",
        description:
          "Customers by email (prefix, any case), phone (E.164, exact or prefix), any identity such as an X handle " +
          "or a page-scoped id (exact, any case) or name; conversations by number (`#123` or `123`), subject or the " +
          "text of their messages (newest first, one row per conversation, with a snippet around the match). " +
          "`q` must be 2 to 200 characters (`search.query_too_short`, `search.query_too_long`).",
        querystring: SearchQuery,
        response: { 200: SearchResult, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return search(db(), p.workspaceId, request.query, { defaultCountry: app.ctx.config.defaultCountry });
    },
  );
};
