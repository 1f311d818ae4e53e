import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

export const systemRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get(
    "/health",
    {
      schema: {
        tags: ["system"],
        response: { 200: z.object({ status: z.literal("ok"), database: z.string() }) },
      },
    },
    async () => ({ status: "ok" as const, database: app.ctx.database.kind }),
  );
};
