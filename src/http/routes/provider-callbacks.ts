import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { handleTwilioStatusCallback } from "../../delivery/providers/twilio-status.ts";

const tags = ["provider callbacks"];

/** Status callbacks from delivery providers, each authenticated by the provider's own signature. */
export const providerCallbackRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    "/webhooks/twilio/status/:workspaceId",
    {
      schema: {
        tags,
        summary: "Twilio message status callback",
        description:
          "Twilio posts here (form-encoded: MessageSid, MessageStatus, ErrorCode…) as a message moves on. " +
          "Authenticated by `X-Twilio-Signature`, computed by Twilio over the public URL it called " +
          "(`RAPPORT_PUBLIC_URL` + path + query), so behind a proxy that URL, not the Host header, is checked. " +
          "A bad signature gets 403 and records nothing. Statuses sent, delivered, read (WhatsApp), " +
          "undelivered and failed are recorded; queued and the like are acknowledged and ignored.",
        params: z.object({ workspaceId: z.uuid().describe("The workspace whose message this is.") }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const signature = request.headers["x-twilio-signature"];
      await handleTwilioStatusCallback(app.ctx.database.db, request.params.workspaceId, {
        url: `${app.ctx.config.publicUrl}${request.url}`,
        signature: typeof signature === "string" ? signature : undefined,
        body: request.body,
      });
      return reply.status(204).send(null);
    },
  );
};
