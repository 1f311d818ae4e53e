import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** X Account Activity webhooks: CRC challenge, mentions and DMs. */
export const xInboundRoutes: FastifyPluginAsyncZod = async (_app) => {};
