import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { playCustomer, simulatorInboxes } from "../../channels/simulator/play.ts";
import { attachmentStoreFor } from "../../conversations/attachments.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../../platform/audit.ts";
import { getWorkspace } from "../../platform/workspaces.ts";
import { type Principal, requireAuth } from "../auth.ts";

const tags = ["simulator"];
const security: Array<Record<string, string[]>> = [{ sessionCookie: [] }, { secretKey: [] }];

/** The workspace anyone signed in may play customers on. */
const DEMO_SLUG = "demo";

const SimulatorInbox = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["sms", "whatsapp", "email", "messenger", "instagram", "x", "chat"]),
  channel: z.string().nullable(),
  address: z.string().nullable(),
  addressKind: z.enum(["phone", "email", "psid", "handle", "visitor"]),
  example: z.string(),
  supports: z.object({
    subject: z.boolean(),
    inReplyTo: z.boolean(),
    postId: z.boolean(),
    mention: z.boolean(),
  }),
});

/**
 * Admins and owners of any workspace (and secret keys) may play customers; every signed-in
 * role may on the demo workspace. Anyone else: `simulator.forbidden`.
 */
export async function requireSimulator(
  request: Parameters<typeof requireAuth>[0],
  db: Parameters<typeof getWorkspace>[0],
): Promise<Principal> {
  const p = await requireAuth(request);
  if (p.kind === "api_key" || p.role === "owner" || p.role === "admin") return p;
  const workspace = await getWorkspace(db, p.workspaceId);
  if (workspace?.slug === DEMO_SLUG) return p;
  throw new AppError(
    "simulator.forbidden",
    `Playing a customer needs the owner or admin role (you are ${p.role}); on the demo workspace every role may.`,
  );
}

/** The customer simulator: writes as a customer through an inbox's real webhook. */
export const simulatorRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/simulator/inboxes",
    {
      schema: {
        tags,
        security,
        summary: "The inboxes the customer simulator can write to",
        description:
          "Each playable inbox with the sender address it needs (`addressKind`: phone, email, psid, handle or " +
          "visitor, with an `example`) and what a message may add (`supports`). API and voice inboxes, and " +
          "SMS/WhatsApp/Meta/X inboxes without their webhook secrets, are not listed.",
        response: { 200: z.object({ data: z.array(SimulatorInbox) }) },
      },
    },
    async (request) => {
      const p = await requireSimulator(request, db());
      return { data: await simulatorInboxes(db(), p.workspaceId) };
    },
  );

  app.post(
    "/api/v1/simulator/messages",
    {
      schema: {
        tags,
        security,
        summary: "Play a customer writing to an inbox",
        description:
          "Builds what the channel's provider would send (a Twilio post signed with the inbox's auth token, a " +
          "Meta or X webhook signed with its secret, an RFC 5322 email, a widget session and message) and " +
          "passes it through Rapport's real inbound path, so signatures, parsing and threading all run. " +
          "Answers the conversation and message it landed in. Owners and admins on any workspace; every role " +
          "on the demo workspace (else 403 `simulator.forbidden`). Unknown inbox 404; an inbox kind it cannot " +
          "play 400 `simulator.unsupported_inbox`; a sender address wrong for the channel 400 " +
          "`simulator.invalid_address`; empty text 400 `simulator.empty_text`. Each message is audit-logged.",
        body: z.unknown(),
        response: {
          201: z.object({
            conversationId: z.string(),
            messageId: z.string(),
            inboxId: z.string(),
            channel: z.string(),
            address: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const p = await requireSimulator(request, db());
      const { config } = app.ctx;
      const result = await playCustomer(
        {
          db: db(),
          inject: async (req) => {
            const res = await app.inject(req);
            return { statusCode: res.statusCode, body: res.body };
          },
          publicUrl: config.publicUrl,
          defaultCountry: config.defaultCountry,
          store: attachmentStoreFor(config.dataDir),
        },
        p.workspaceId,
        // checked by playCustomer, which names the field to fix
        request.body,
      );
      await recordAudit(db(), {
        workspaceId: p.workspaceId,
        actor: p.kind === "user" ? { kind: "user", id: p.userId } : { kind: "api_key", id: p.keyId },
        action: "simulator.message",
        target: { kind: "conversation", id: result.conversationId },
        details: {
          inboxId: result.inboxId,
          channel: result.channel,
          from: result.address,
          messageId: result.messageId,
        },
        ip: request.ip,
      });
      reply.status(201);
      return result;
    },
  );
};
