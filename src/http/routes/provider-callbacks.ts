import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** Routes of this area are added as it is built. */
export const providerCallbackRoutes: FastifyPluginAsyncZod = async () => {};
