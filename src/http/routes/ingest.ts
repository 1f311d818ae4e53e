import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

export const ingestRoutes: FastifyPluginAsyncZod = async () => {};
