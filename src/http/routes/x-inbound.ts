import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { answerXCrcRequest, receiveXWebhook } from "../../channels/x/webhook.ts";
import { AppError } from "../../errors.ts";

const tags = ["channels"];

const Params = z.object({
  workspaceId: z.uuid().describe("The workspace the inbox belongs to."),
  inboxId: z.uuid().describe("The X inbox (kind x)."),
});

const Outcome = z.object({
  stored: z.number().int(),
  duplicates: z.number().int(),
  ignored: z.number().int(),
  items: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(["tweet", "dm"]),
      outcome: z.enum(["stored", "duplicate", "ignored"]),
      reason: z.string().optional(),
      direction: z.enum(["inbound", "outbound"]).optional(),
      conversationId: z.string().optional(),
      opened: z.boolean().optional(),
    }),
  ),
});

/** X Account Activity webhooks: CRC challenge, mentions and DMs. */
export const xInboundRoutes: FastifyPluginAsyncZod = async (app) => {
  // the signature covers X's exact bytes: JSON is read only after it is checked (this plugin only)
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });

  app.get(
    "/webhooks/x/:workspaceId/inbox/:inboxId",
    {
      schema: {
        tags,
        summary: "X Challenge-Response Check",
        description:
          "X calls this with `?crc_token=…` when the webhook is registered and regularly after. The answer is " +
          '`{ "response_token": "sha256=<base64 HMAC-SHA256 of crc_token keyed by the inbox\'s consumerSecret>" }`. ' +
          "An inbox without `consumerSecret` answers 403; a request without `crc_token` 400.",
        params: Params,
        querystring: z.object({ crc_token: z.string().optional() }),
        response: { 200: z.object({ response_token: z.string() }) },
      },
    },
    async (request) =>
      answerXCrcRequest(
        app.ctx.database.db,
        request.params.workspaceId,
        request.params.inboxId,
        request.query.crc_token,
      ),
  );

  app.post(
    "/webhooks/x/:workspaceId/inbox/:inboxId",
    {
      schema: {
        tags,
        summary: "X Account Activity events",
        description:
          "Register as the X app's Account Activity webhook and subscribe the brand account. Takes " +
          "`tweet_create_events` (mentions of the brand, replies to it and quotes of its tweets; the brand's own " +
          "replies made in X's app) and `direct_message_events` (DMs to and from the brand); likes, follows, typing " +
          "and other events are acknowledged and ignored, as are events of another account (`for_user_id`). " +
          "Authenticated by `x-twitter-webhooks-signature` (`sha256=` + base64 HMAC-SHA256 of the raw body keyed by " +
          "the inbox's consumerSecret); a bad signature gets 403 and stores nothing. A replayed tweet or DM id is " +
          "stored once; replies Rapport sent, echoed back by X, are recognised and skipped.",
        params: Params,
        response: { 200: Outcome },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new AppError(
          "request.unsupported_media_type",
          "Send the body as application/json, as X posts Account Activity events.",
        );
      }
      const signature = request.headers["x-twitter-webhooks-signature"];
      return receiveXWebhook(
        app.ctx.database.db,
        request.params.workspaceId,
        request.params.inboxId,
        { rawBody: request.body, signature: typeof signature === "string" ? signature : undefined },
        { defaultCountry: app.ctx.config.defaultCountry },
      );
    },
  );
};
