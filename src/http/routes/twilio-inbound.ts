import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { receiveTwilioMessage } from "../../channels/twilio/inbound-message.ts";
import { publicRequestUrl } from "../../channels/twilio/verify.ts";
import { receiveTwilioCall } from "../../channels/twilio/voice.ts";
import { attachmentStoreFor } from "../../conversations/attachments.ts";

const tags = ["channels"];

const Params = z.object({
  workspaceId: z.uuid().describe("The workspace the inbox belongs to."),
  inboxId: z.uuid().describe("The Twilio inbox (kind sms or whatsapp)."),
});

/** Twilio's inbound webhooks (messages, calls), each verified with the inbox's own auth token. */
export const twilioInboundRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    "/webhooks/twilio/:workspaceId/inbox/:inboxId",
    {
      schema: {
        tags,
        summary: "Twilio incoming SMS / WhatsApp message",
        description:
          "Set as the number's (or Messaging Service's) incoming-message webhook. Form-encoded as Twilio " +
          "posts it (MessageSid, AccountSid, MessagingServiceSid, From, To, Body, NumMedia, MediaUrl{N}, " +
          "ProfileName, WaId). Authenticated by `X-Twilio-Signature` with the inbox's auth token over the " +
          "public URL (`RAPPORT_PUBLIC_URL` + path + query); a bad signature or another account gets 403 and " +
          "stores nothing. A replayed MessageSid is stored once. STOP/START/HELP keywords update consent and " +
          "answer with a TwiML confirmation; other messages answer an empty `<Response/>`.",
        params: Params,
      },
    },
    async (request, reply) => {
      const signature = request.headers["x-twilio-signature"];
      const outcome = await receiveTwilioMessage(
        app.ctx.database.db,
        request.params.workspaceId,
        request.params.inboxId,
        {
          url: publicRequestUrl(app.ctx.config.publicUrl, request.url),
          signature: typeof signature === "string" ? signature : undefined,
          body: request.body,
        },
        { defaultCountry: app.ctx.config.defaultCountry, store: attachmentStoreFor(app.ctx.config.dataDir) },
      );
      return reply.status(200).type("text/xml; charset=utf-8").send(outcome.twiml);
    },
  );

  app.post(
    "/webhooks/twilio/:workspaceId/voice/:inboxId",
    {
      schema: {
        tags,
        summary: "Twilio Voice call status callback",
        description:
          "Set as the number's call status callback (and recording / transcription callbacks). Form-encoded " +
          "as Twilio posts it (CallSid, AccountSid, CallStatus, Direction, From, To, CallDuration, QueueTime, " +
          "RecordingUrl, TranscriptionText). Verified like incoming messages (403 and nothing stored on a bad " +
          "signature). Each CallSid is one `call` message in the caller's conversation, updated as statuses arrive; " +
          "a RecordingUrl is fetched into the attachment store by a background job. Calls Rapport places name " +
          "their entry in the query (`entry`). The `<Enqueue>` action (QueueResult, QueueTime) is answered with " +
          "an empty TwiML `<Response/>`; status callbacks with 204.",
        params: Params.extend({ inboxId: z.uuid().describe("The Twilio inbox (kind voice).") }),
        querystring: z.object({
          entry: z.string().max(64).optional().describe("The call entry of a call Rapport placed."),
        }),
      },
    },
    async (request, reply) => {
      const signature = request.headers["x-twilio-signature"];
      const received = await receiveTwilioCall(
        app.ctx.database.db,
        request.params.workspaceId,
        request.params.inboxId,
        {
          url: publicRequestUrl(app.ctx.config.publicUrl, request.url),
          signature: typeof signature === "string" ? signature : undefined,
          body: request.body,
        },
        { defaultCountry: app.ctx.config.defaultCountry, entryId: request.query.entry },
      );
      // an action URL must answer TwiML: an empty document ends the call's TwiML cleanly
      if (received.action) {
        return reply
          .status(200)
          .type("text/xml; charset=utf-8")
          .send('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      }
      return reply.status(204).send();
    },
  );
};
