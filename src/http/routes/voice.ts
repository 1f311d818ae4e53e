import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AgentCallInput, placeAgentCall } from "../../channels/twilio/agent-call.ts";
import { CallbackRequest, requestCallback } from "../../channels/twilio/callback-request.ts";
import { AppError } from "../../errors.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const tags = ["conversations"];

const PlacedCall = z.object({
  conversationId: z.string(),
  messageId: z.string().describe("The call's entry in the conversation (a `call` message)."),
  callSid: z.string(),
  status: z.string(),
});

/** Requests a client address may make to the public callback endpoint, per window. */
export const PUBLIC_CALLS_PER_WINDOW = 5;
const PUBLIC_CALLS_WINDOW_MS = 10 * 60_000;

// the button lives on the brand's own pages: any origin may post, no cookie is ever read
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "content-type",
  "access-control-max-age": "600",
};

/** Click-to-call: an agent or a customer-facing button starts a call. */
export const voiceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    "/api/v1/conversations/:id/calls",
    {
      schema: {
        tags,
        security,
        summary: "Call the customer (click-to-call)",
        description:
          "Twilio calls the conversation's customer from a voice inbox's number (the conversation's own, " +
          "the one named, else the workspace's first) and, once they answer, rings the agent's phone " +
          "(`agentPhone`, else the inbox's `agentNumber`) and connects them. The call is an outbound `call` " +
          "entry of the conversation at once; its status callbacks fill in the answer time, the wait, the " +
          "duration and the recording.",
        params: z.object({ id: z.string() }),
        body: AgentCallInput,
        response: { 201: PlacedCall },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const placed = await placeAgentCall(
        app.ctx.database.db,
        p.workspaceId,
        request.params.id,
        p.kind === "user" ? p.userId : null,
        request.body,
        { publicUrl: app.ctx.config.publicUrl, defaultCountry: app.ctx.config.defaultCountry },
      );
      return reply.status(201).send(placed);
    },
  );

  app.options("/api/v1/public/calls", async (_request, reply) => reply.status(204).headers(CORS).send());

  app.post(
    "/api/v1/public/calls",
    {
      // on every answer, refusals included, so the brand's page can read why
      onSend: async (_request, reply, payload) => {
        reply.headers(CORS);
        return payload;
      },
      config: {
        rateLimit: {
          max: PUBLIC_CALLS_PER_WINDOW,
          timeWindow: PUBLIC_CALLS_WINDOW_MS,
          // the plugin throws what this returns, so the app's error handler renders it
          errorResponseBuilder: (_request: unknown, context: { after: string }) =>
            new AppError(
              "request.rate_limited",
              `Too many callback requests from this address; try again in ${context.after}.`,
            ),
        },
      },
      schema: {
        tags: ["public"],
        summary: "Ask to be called back (a brand page's click-to-call button)",
        description:
          "Public: no key. Enabled per voice inbox (`clickToCall.enabled` in its settings). The number must be " +
          "a valid mobile or landline number of a country the inbox calls. Limited per client address, per " +
          "number (one call every 10 minutes, a few a day) and per inbox and hour (429 `request.rate_limited`). " +
          "JSON or a plain form post. The customer's conversation on the inbox opens with the page as its source, " +
          "and Twilio calls them, connecting them to the team's queue or number.",
        body: CallbackRequest,
        response: { 201: z.object({ status: z.string() }) },
      },
    },
    async (request, reply) => {
      const placed = await requestCallback(app.ctx.database.db, request.body, {
        publicUrl: app.ctx.config.publicUrl,
      });
      return reply.status(201).send({ status: placed.status });
    },
  );
};
