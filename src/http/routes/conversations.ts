import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { Conversation } from "../../contracts/conversations.ts";
import {
  AVAILABILITY,
  createTeam,
  listAvailability,
  setAvailability,
  setTeamMembers,
} from "../../conversations/assignment.ts";
import { attachmentStoreFor } from "../../conversations/attachments.ts";
import { conversationCounts } from "../../conversations/conversation-counts.ts";
import {
  ConversationFilter,
  ConversationPatch,
  getConversation,
  listConversations,
  listMessages,
  updateConversation,
} from "../../conversations/conversations.ts";
import { receiveInbound } from "../../conversations/inbound.ts";
import {
  createInbox,
  deleteInbox,
  getInbox,
  type Inbox,
  InboxInput,
  InboxPatch,
  listInboxes,
  updateInbox,
} from "../../conversations/inboxes.ts";
import { MergeInput, mergeConversations } from "../../conversations/merge.ts";
import { markConversationRead } from "../../conversations/reads.ts";
import { ReplyInput, replyToConversation } from "../../conversations/replies.ts";
import { retryMessage } from "../../conversations/retry.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../../platform/audit.ts";
import { getCustomer } from "../../profiles/customers.ts";
import { type Principal, requireAuth } from "../auth.ts";
import { inboxListRoutes } from "./inbox-lists.ts";
import { mentionRoutes } from "./mentions.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["conversations"];
const Id = z.object({ id: z.string() });
const MessageParams = z.object({ id: z.string(), messageId: z.string() });

/** The signed-in agent a view like "mine" is about; a secret key is nobody. */
function viewerOf(p: Principal): { userId: string } | undefined {
  return p.kind === "user" ? { userId: p.userId } : undefined;
}

/** An admin's change to an inbox, in the audit log. */
async function auditInbox(
  request: FastifyRequest,
  p: Principal,
  action: string,
  id: string,
  details: Record<string, unknown>,
): Promise<void> {
  await recordAudit(request.server.ctx.database.db, {
    workspaceId: p.workspaceId,
    actor: p.kind === "user" ? { kind: "user", id: p.userId } : { kind: "api_key", id: p.keyId },
    action,
    target: { kind: "inbox", id },
    details,
    ip: request.ip,
  });
}

/** An inbox as agents see it: its settings' secrets left out. */
function presentInbox(inbox: Inbox, canSeeSecrets: boolean) {
  if (canSeeSecrets) return inbox;
  const { config: _secrets, ...rest } = inbox;
  return { ...rest, config: {} };
}

/**
 * Inboxes (channel instances), conversations and their messages: read by every agent, replied
 * to through the delivery engine, changed by status, assignment and labels; inboxes are
 * managed by admins. `POST /api/v1/inboxes/:id/messages` is the API channel: any custom
 * source (an app's own chat, a form) posts a customer's message there.
 */
export const conversationRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  await app.register(mentionRoutes);
  await app.register(inboxListRoutes);

  app.get(
    "/api/v1/inboxes",
    { schema: { tags, security, summary: "The workspace's inboxes" } },
    async (request) => {
      const p = await requireAuth(request);
      const admin = p.kind === "api_key" || p.role !== "agent";
      return { data: (await listInboxes(db(), p.workspaceId)).map((i) => presentInbox(i, admin)) };
    },
  );

  app.post(
    "/api/v1/inboxes",
    { schema: { tags, security, summary: "Create an inbox (a channel instance)", body: InboxInput } },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      const inbox = await createInbox(db(), p.workspaceId, request.body);
      await auditInbox(request, p, "inbox.create", inbox.id, { kind: inbox.kind, name: inbox.name });
      reply.status(201);
      return inbox;
    },
  );

  app.patch(
    "/api/v1/inboxes/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change an inbox: name, address, settings (merged; null removes a key), assignment, team",
        params: Id,
        body: InboxPatch,
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      const inbox = await updateInbox(db(), p.workspaceId, request.params.id, request.body);
      // which settings changed, never their values (secrets among them)
      await auditInbox(request, p, "inbox.update", inbox.id, {
        fields: Object.keys(request.body),
        ...(request.body.config ? { config: Object.keys(request.body.config) } : {}),
      });
      return inbox;
    },
  );

  app.delete(
    "/api/v1/inboxes/:id",
    {
      schema: {
        tags,
        security,
        summary: "Delete an inbox no conversation came through (409 when it has conversations)",
        params: Id,
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      const inbox = await getInbox(db(), p.workspaceId, request.params.id);
      await deleteInbox(db(), p.workspaceId, inbox.id);
      await auditInbox(request, p, "inbox.delete", inbox.id, { kind: inbox.kind, name: inbox.name });
      reply.status(204);
    },
  );

  app.post(
    "/api/v1/inboxes/:id/messages",
    {
      schema: {
        tags,
        security,
        summary: "Post a customer's message from a custom source (the API channel)",
        params: Id,
        body: z.object({
          from: z
            .object({
              email: z.string().optional(),
              phone: z.string().optional(),
              userId: z.string().optional(),
            })
            .refine((f) => f.email || f.phone || f.userId, {
              message: "give the sender's email, phone or userId",
            }),
          text: z.string().trim().min(1).max(100_000),
          messageId: z
            .string()
            .min(1)
            .max(255)
            .optional()
            .describe("Your id of the message: a replay is stored once."),
          threadKey: z.string().min(1).max(255).optional(),
          name: z.string().max(200).optional(),
          source: z
            .object({ pageUrl: z.string().max(2000).optional(), referrer: z.string().max(2000).optional() })
            .optional(),
        }),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const inbox = await getInbox(db(), p.workspaceId, request.params.id);
      if (inbox.kind !== "api") {
        throw new AppError(
          "conversations.not_an_api_inbox",
          `Inbox "${inbox.name}" takes messages from its own channel, not from the API.`,
        );
      }
      const b = request.body;
      const from = [
        ...(b.from.userId ? [{ kind: "user_id" as const, value: b.from.userId }] : []),
        ...(b.from.email ? [{ kind: "email" as const, value: b.from.email }] : []),
        ...(b.from.phone ? [{ kind: "phone" as const, value: b.from.phone }] : []),
      ];
      const result = await receiveInbound(
        db(),
        p.workspaceId,
        {
          inboxId: inbox.id,
          from,
          text: b.text,
          providerMessageId: b.messageId,
          threadKey: b.threadKey,
          traits: b.name ? { name: b.name } : undefined,
          source: b.source,
        },
        { defaultCountry: app.ctx.config.defaultCountry },
      );
      reply.status(result.duplicate ? 200 : 201);
      return result;
    },
  );

  app.get(
    "/api/v1/conversations",
    {
      schema: {
        tags,
        security,
        summary: "Conversations of a view (mine, unassigned, all), filtered and sorted, with a cursor",
        querystring: ConversationFilter,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listConversations(db(), p.workspaceId, request.query, viewerOf(p));
    },
  );

  app.get(
    "/api/v1/conversations/counts",
    {
      schema: {
        tags,
        security,
        summary: "Open and pending conversations per view, inbox, team and label, and per status",
        description:
          "With `unread=true` the answer also has `unread: { mine, unassigned, all }`: the open and pending " +
          "conversations of each view the signed-in agent has unread (`mine` is null for a secret key).",
        querystring: z.object({
          unread: z
            .enum(["true", "false"])
            .optional()
            .describe("Also count each view's unread conversations."),
        }),
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return conversationCounts(db(), p.workspaceId, viewerOf(p), {
        unread: request.query.unread === "true",
      });
    },
  );

  app.get(
    "/api/v1/customers/:id/conversations",
    {
      schema: {
        tags,
        security,
        summary: "A customer's conversations on every channel",
        params: Id,
        querystring: ConversationFilter.omit({ customerId: true }),
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      // another workspace's customer is not found; a merged customer's id lists the survivor's
      const customer = await getCustomer(db(), p.workspaceId, request.params.id);
      return listConversations(
        db(),
        p.workspaceId,
        { ...request.query, customerId: customer.id },
        viewerOf(p),
      );
    },
  );

  app.get(
    "/api/v1/conversations/:id",
    {
      schema: {
        tags,
        security,
        summary: "One conversation (with the post a comment conversation belongs to)",
        params: Id,
        response: { 200: Conversation },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return getConversation(db(), p.workspaceId, request.params.id, viewerOf(p));
    },
  );

  app.post(
    "/api/v1/conversations/:id/read",
    {
      schema: {
        tags,
        security,
        summary: "Mark the conversation read by the signed-in agent",
        description:
          "It stays read for this agent until the customer writes again. A secret key is nobody: " +
          "`conversations.not_an_agent` (400).",
        params: Id,
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      if (p.kind !== "user") {
        throw new AppError(
          "conversations.not_an_agent",
          "Read markers are each agent's own, and a secret key is no agent: sign in to mark conversations read.",
        );
      }
      await markConversationRead(db(), p.workspaceId, p.userId, request.params.id);
      reply.status(204).send();
    },
  );

  app.patch(
    "/api/v1/conversations/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change status (snooze, resolve), priority, assignee, team, labels or attributes",
        params: Id,
        body: ConversationPatch,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return updateConversation(db(), p.workspaceId, request.params.id, request.body);
    },
  );

  app.post(
    "/api/v1/conversations/:id/merge",
    {
      schema: {
        tags,
        security,
        summary: "Merge this conversation into another of the same customer",
        description:
          "This conversation's messages move into `into`, which shows one timeline in time order; this one " +
          "is resolved and points there (`mergedIntoId`). Both must be with the same customer.",
        params: Id,
        body: MergeInput,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return mergeConversations(db(), p.workspaceId, request.params.id, request.body, {
        actor: p.kind === "user" ? { kind: "user", id: p.userId } : { kind: "api_key", id: p.keyId },
        userId: p.kind === "user" ? p.userId : null,
        ip: request.ip,
      });
    },
  );

  app.get(
    "/api/v1/conversations/:id/messages",
    {
      schema: {
        tags,
        security,
        params: Id,
        summary: "A conversation's messages, oldest first",
        description:
          "Pages forward from the first message (`cursor`: the `nextCursor` of the previous page), or " +
          "backward from the newest (`latest=true`, then `before`: the `previousCursor` of the page shown).",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().optional(),
          before: z.string().optional(),
          latest: z.enum(["true", "false"]).optional(),
        }),
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listMessages(db(), p.workspaceId, request.params.id, {
        limit: request.query.limit,
        after: request.query.cursor,
        before: request.query.before,
        latest: request.query.latest === "true",
      });
    },
  );

  app.post(
    "/api/v1/conversations/:id/messages",
    {
      schema: {
        tags,
        security,
        summary: "Reply on the conversation's channel, or add a private note",
        params: Id,
        body: ReplyInput,
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const result = await replyToConversation(
        db(),
        p.workspaceId,
        request.params.id,
        p.kind === "user" ? p.userId : null,
        request.body,
        { publicUrl: app.ctx.config.publicUrl, store: attachmentStoreFor(app.ctx.config.dataDir) },
      );
      reply.status(201);
      return result;
    },
  );

  app.post(
    "/api/v1/conversations/:id/messages/:messageId/retry",
    {
      schema: {
        tags,
        security,
        summary: "Send a reply whose delivery failed once more",
        description:
          "The same delivery goes back through the engine: the Gate again, then the provider with the same " +
          "idempotency key. Only a failed reply can be retried (`conversations.not_retryable`, 409).",
        params: MessageParams,
        response: {
          200: z.object({ messageId: z.uuid(), deliveryId: z.uuid(), deliveryState: z.string() }),
        },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return retryMessage(db(), p.workspaceId, request.params.id, request.params.messageId, {
        userId: p.kind === "user" ? p.userId : null,
      });
    },
  );

  app.put(
    "/api/v1/me/availability",
    {
      schema: {
        tags,
        security,
        summary: "Set whether you take new conversations (online), are busy, or are away",
        body: z.object({ status: z.enum(AVAILABILITY) }),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      if (p.kind !== "user") {
        throw new AppError(
          "conversations.not_an_agent",
          "Only a signed-in agent has an availability; sign in to set yours.",
        );
      }
      await setAvailability(db(), p.workspaceId, p.userId, request.body.status);
      reply.status(204).send();
    },
  );

  app.get("/api/v1/agents/availability", { schema: { tags, security } }, async (request) => {
    const p = await requireAuth(request);
    return { data: await listAvailability(db(), p.workspaceId) };
  });

  app.post(
    "/api/v1/teams",
    { schema: { tags, security, summary: "Create a team", body: z.object({ name: z.string() }) } },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      reply.status(201);
      return createTeam(db(), p.workspaceId, request.body.name);
    },
  );

  app.put(
    "/api/v1/teams/:id/members",
    {
      schema: {
        tags,
        security,
        summary: "Set a team's members",
        params: Id,
        body: z.object({ userIds: z.array(z.string()).max(500) }),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      await setTeamMembers(db(), p.workspaceId, request.params.id, request.body.userIds);
      reply.status(204).send();
    },
  );
};
