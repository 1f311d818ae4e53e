import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** The chat widget: its loader script, iframe app, visitor API and live socket. */
export const widgetRoutes: FastifyPluginAsyncZod = async (_app) => {};
