import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** Attachments and inline images of conversation messages, served to agents. */
export const attachmentRoutes: FastifyPluginAsyncZod = async (_app) => {};
