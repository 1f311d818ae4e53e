import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** Click-to-call: an agent or a customer-facing button starts a call. */
export const voiceRoutes: FastifyPluginAsyncZod = async (_app) => {};
