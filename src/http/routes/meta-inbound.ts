import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { metaInboxOf } from "../../channels/meta/config.ts";
import { receiveMetaWebhook } from "../../channels/meta/receive.ts";
import { answerHubChallenge } from "../../channels/meta/signature.ts";
import { attachmentStoreFor } from "../../conversations/attachments.ts";
import { getInbox } from "../../conversations/inboxes.ts";

const tags = ["channels"];

const Params = z.object({
  workspaceId: z.uuid().describe("The workspace the inbox belongs to."),
  inboxId: z.uuid().describe("The Messenger or Instagram inbox."),
});

const PATH = "/webhooks/meta/:workspaceId/inbox/:inboxId";

// Meta batches up to a thousand updates in one post
const BODY_LIMIT = 5 * 1024 * 1024;

/**
 * Meta (Messenger, Instagram) webhooks: the `hub.challenge` verification and the signed
 * posts. The JSON parser here keeps the raw bytes, which `X-Hub-Signature-256` signs;
 * fastify's encapsulation keeps that parser to these routes.
 */
export const metaInboundRoutes: FastifyPluginAsyncZod = async (app) => {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: "Meta webhook verification (hub.challenge)",
        description:
          "Meta calls this when the webhook URL is saved in the app's settings (Page or Instagram object). " +
          "Answers `hub.challenge` as plain text when `hub.mode` is `subscribe` and `hub.verify_token` is the " +
          "inbox's `verifyToken`; 403 `meta.verify_token_forbidden` otherwise.",
        params: Params,
        querystring: z.object({
          "hub.mode": z.string().max(64).optional(),
          "hub.verify_token": z.string().max(1000).optional(),
          "hub.challenge": z.string().max(1000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { config } = metaInboxOf(
        await getInbox(app.ctx.database.db, request.params.workspaceId, request.params.inboxId),
      );
      const challenge = answerHubChallenge(config.verifyToken, {
        mode: request.query["hub.mode"],
        verifyToken: request.query["hub.verify_token"],
        challenge: request.query["hub.challenge"],
      });
      return reply.status(200).type("text/plain; charset=utf-8").send(challenge);
    },
  );

  app.post(
    PATH,
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags,
        summary: "Meta webhook: Messenger / Instagram messages, echoes, reads, deliveries, comments",
        description:
          "Set as the callback URL of the Page object (messenger inbox: `messages`, `message_echoes`, " +
          "`message_deliveries`, `message_reads`, `messaging_postbacks`, `feed`) or of the Instagram object " +
          "(instagram inbox: `messages`, `messaging_seen`, `comments`, `live_comments`). Authenticated by " +
          "`X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the inbox's `appSecret`): a missing or bad " +
          "signature gets 403 and stores nothing. A payload for another `object`, or one that cannot be read, " +
          "gets 400 and stores nothing. Each mid or comment id is stored once (Meta's retries are harmless). " +
          "Customer messages and comments open or continue conversations (one per commenter and post); echoes " +
          "of replies sent elsewhere are kept as outbound messages; deliveries and reads move the delivery ledger.",
        params: Params,
        response: {
          200: z.object({
            stored: z.number().int(),
            duplicates: z.number().int(),
            statuses: z.number().int(),
            ignored: z.array(z.object({ what: z.string(), reason: z.string() })),
          }),
        },
      },
    },
    async (request) => {
      const signature = request.headers["x-hub-signature-256"];
      return receiveMetaWebhook(
        app.ctx.database.db,
        request.params.workspaceId,
        request.params.inboxId,
        {
          rawBody: Buffer.isBuffer(request.body) ? request.body : undefined,
          signature: typeof signature === "string" ? signature : undefined,
        },
        { defaultCountry: app.ctx.config.defaultCountry, store: attachmentStoreFor(app.ctx.config.dataDir) },
      );
    },
  );
};
