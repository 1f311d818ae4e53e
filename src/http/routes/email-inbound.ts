import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ingestRawEmail } from "../../channels/email/ingest.ts";
import { MAX_EMAIL_BYTES } from "../../channels/email/parse.ts";
import { attachmentStoreFor } from "../../conversations/attachments.ts";
import { AppError } from "../../errors.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }];
const tags = ["conversations"];

const EmailIngested = z.object({
  outcome: z.enum(["message", "bounce", "dropped"]),
  conversationId: z.string().optional(),
  messageId: z.string().optional(),
  customerId: z.string().optional(),
  duplicate: z.boolean().optional(),
  opened: z.boolean().optional(),
  autoReply: z.boolean().optional(),
  threadedBy: z.string().optional(),
  bounceRecorded: z.boolean().optional(),
  reason: z.string().optional(),
});

function tooLarge(size: number): AppError {
  return new AppError(
    "conversations.email_too_large",
    `An email may be at most ${MAX_EMAIL_BYTES / 1024 / 1024} MB; this one is over ${(size / 1024 / 1024).toFixed(1)} MB.`,
    { maxBytes: MAX_EMAIL_BYTES },
  );
}

export const emailInboundRoutes: FastifyPluginAsyncZod = async (app) => {
  // the raw body is read here, counted as it comes, so an oversized email gets the email error, not a generic one
  app.addContentTypeParser("message/rfc822", (_request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    payload.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_EMAIL_BYTES) {
        failed = true;
        chunks.length = 0;
        done(tooLarge(size), undefined);
        return;
      }
      chunks.push(chunk);
    });
    payload.on("error", (err: Error) => {
      if (!failed) done(err, undefined);
      failed = true;
    });
    payload.on("end", () => {
      if (!failed) done(null, Buffer.concat(chunks));
    });
  });

  // any other type gets a message about this endpoint, not the app-wide "send JSON"
  app.addContentTypeParser("*", (_request, _payload, done) => {
    done(
      new AppError(
        "request.unsupported_media_type",
        "Send the raw email as the body with `content-type: message/rfc822`.",
      ),
      undefined,
    );
  });

  app.post(
    "/api/v1/inboxes/:inboxId/email",
    {
      // the parser above enforces 30 MB; this only keeps fastify's own ceiling out of its way
      bodyLimit: MAX_EMAIL_BYTES * 2,
      schema: {
        tags,
        security,
        summary: "Take in a raw email (for relays)",
        description:
          "Send the message exactly as received (`content-type: message/rfc822`, at most 30 MB). " +
          "It is parsed, threaded and stored like mail received by Rapport's SMTP listener; bounces " +
          "update the delivery ledger instead of opening a conversation.",
        params: z.object({ inboxId: z.string() }),
        response: { 200: EmailIngested },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: ["owner", "admin"] });
      const body: unknown = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new AppError(
          "request.unsupported_media_type",
          "Send the raw email as the body with `content-type: message/rfc822`.",
        );
      }
      const { config, database, logger } = app.ctx;
      const result = await ingestRawEmail(database.db, p.workspaceId, body, {
        inboxId: request.params.inboxId,
        defaultCountry: config.defaultCountry,
        store: attachmentStoreFor(config.dataDir),
        logger,
      });
      if (result.kind === "message") {
        return {
          outcome: "message" as const,
          conversationId: result.conversationId,
          messageId: result.messageId,
          customerId: result.customerId,
          duplicate: result.duplicate,
          opened: result.opened,
          autoReply: result.autoReply,
          threadedBy: result.threadedBy,
        };
      }
      if (result.kind === "bounce") return { outcome: "bounce" as const, bounceRecorded: result.recorded };
      return { outcome: "dropped" as const, reason: result.reason };
    },
  );
};
