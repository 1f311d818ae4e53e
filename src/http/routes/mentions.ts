import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { listMentions, MentionFilter, markMentionRead } from "../../conversations/mentions.ts";
import { AppError } from "../../errors.ts";
import { type Principal, requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ sessionCookie: [] }];
const tags = ["conversations"];

/** Mentions belong to a person: a secret key acts as the workspace and has none. */
function agentOf(p: Principal): string {
  if (p.kind !== "user") {
    throw new AppError(
      "conversations.not_an_agent",
      "Mentions belong to a signed-in agent; sign in to see yours.",
    );
  }
  return p.userId;
}

/**
 * An agent's mentions: the private notes that name them (`@[Name](user:<id>)` or `@handle`),
 * unread first, and marking one read. Registered by the conversation routes.
 */
export const mentionRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;

  app.get(
    "/api/v1/mentions",
    {
      schema: {
        tags,
        security,
        summary: "Your mentions in private notes, unread first, with how many are unread",
        querystring: MentionFilter,
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return listMentions(db(), p.workspaceId, agentOf(p), request.query);
    },
  );

  app.post(
    "/api/v1/mentions/:messageId/read",
    {
      schema: {
        tags,
        security,
        summary: "Mark your mention in a note read",
        params: z.object({ messageId: z.string() }),
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return markMentionRead(db(), p.workspaceId, agentOf(p), request.params.messageId);
    },
  );
};
