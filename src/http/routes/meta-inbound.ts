import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** Meta (Messenger, Instagram) webhooks: verification, messages, comments. */
export const metaInboundRoutes: FastifyPluginAsyncZod = async (_app) => {};
