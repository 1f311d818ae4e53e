import type { FastifyError, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { IngestResponse, MAX_BATCH_BYTES, MAX_EVENT_BYTES, Timestamp } from "../../contracts/segment.ts";
import { AppError } from "../../errors.ts";
import { acceptEvents } from "../../profiles/inbox.ts";
import { requireWriteKey } from "../auth.ts";
import { toErrorResponse } from "../error-response.ts";

const SINGLE = ["identify", "track", "page", "screen", "group", "alias"] as const;

const EventBody = z
  .record(z.string(), z.unknown())
  .describe("A Segment event (https://segment.com/docs/connections/spec/); `type` is implied by the path.");

const BatchBody = z.object({
  batch: z.array(z.unknown()).describe("Segment events, each with its `type`."),
  sentAt: z.string().optional().describe("When the client sent the batch; used to correct its clock."),
  context: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Context applied to every event of the batch."),
  writeKey: z.string().optional(),
});

/** Parses an ISO `sentAt`, refusing anything else with a clear error. */
function parseSentAt(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = Timestamp.safeParse(value);
  if (!parsed.success) {
    throw new AppError(
      "ingest.invalid_timestamp",
      "sentAt must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z.",
    );
  }
  return parsed.data;
}

// checked before the body is validated, so a bad key answers 401 whatever the body holds
async function checkWriteKey(request: FastifyRequest): Promise<void> {
  request.writeKey = await requireWriteKey(request);
}

function writeKeyOf(request: FastifyRequest): { workspaceId: string; keyId: string } {
  if (!request.writeKey) throw new AppError("auth.unauthorized", "The write key is missing.");
  return request.writeKey;
}

/**
 * The Segment HTTP Tracking API: unmodified Segment and RudderStack clients point their
 * host here. Write key as the Basic user name; answers 200 `{ success }` like Segment, plus
 * which events were rejected and why.
 */
export const ingestRoutes: FastifyPluginAsyncZod = async (app) => {
  // browsers' sendBeacon posts JSON as text/plain to skip the CORS preflight
  app.addContentTypeParser("text/plain", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, JSON.parse(String(body)));
    } catch (err) {
      const e: Partial<FastifyError> & Error = err instanceof Error ? err : new Error(String(err));
      e.code = "FST_ERR_CTP_INVALID_JSON_BODY";
      e.statusCode = 400;
      done(e, undefined);
    }
  });

  app.setErrorHandler((err, request, reply) => {
    if ((err as Partial<FastifyError>).code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      const batch = request.url.startsWith("/v1/batch");
      reply.status(400).send({
        error: batch
          ? {
              code: "ingest.batch_too_large",
              message: "A batch may be at most 500 KB; send fewer events per request.",
            }
          : { code: "ingest.event_too_large", message: "An event may be at most 32 KB." },
      });
      return;
    }
    const { status, body } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, "ingestion failed");
    reply.status(status).send(body);
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("access-control-allow-origin", request.headers.origin ?? "*");
    reply.header("vary", "Origin");
  });
  app.options("/v1/*", { schema: { hide: true } }, async (_request, reply) => {
    reply
      .header("access-control-allow-methods", "POST, OPTIONS")
      .header("access-control-allow-headers", "Authorization, Content-Type")
      .header("access-control-max-age", "86400")
      .status(204)
      .send();
  });

  for (const type of SINGLE) {
    app.post(
      `/v1/${type}`,
      {
        bodyLimit: MAX_EVENT_BYTES,
        preValidation: checkWriteKey,
        schema: {
          tags: ["ingestion"],
          summary: `Segment ${type} call`,
          security: [{ writeKey: [] }],
          body: EventBody,
          response: { 200: IngestResponse },
        },
      },
      async (request) => {
        const key = writeKeyOf(request);
        const result = await acceptEvents(app.ctx.database.db, key.workspaceId, [{ ...request.body, type }], {
          receivedAt: new Date(),
          batchSentAt: undefined,
          defaultCountry: app.ctx.config.defaultCountry,
        });
        const rejected = result.rejected[0];
        if (rejected) throw new AppError(rejected.code, rejected.message);
        return { success: true, ...result };
      },
    );
  }

  app.post(
    "/v1/batch",
    {
      bodyLimit: MAX_BATCH_BYTES,
      preValidation: checkWriteKey,
      schema: {
        tags: ["ingestion"],
        summary: "Segment batch call",
        description: "Up to 500 KB of events. Valid events are stored even when others are rejected.",
        security: [{ writeKey: [] }],
        body: BatchBody,
        response: { 200: IngestResponse },
      },
    },
    async (request) => {
      const key = writeKeyOf(request);
      const { batch, context } = request.body;
      if (batch.length === 0) throw new AppError("ingest.empty_batch", "The batch has no events.");
      const events = context
        ? batch.map((e) =>
            typeof e === "object" && e !== null && !Array.isArray(e)
              ? {
                  ...e,
                  context: {
                    ...context,
                    ...("context" in e && typeof e.context === "object" ? e.context : {}),
                  },
                }
              : e,
          )
        : batch;
      const result = await acceptEvents(app.ctx.database.db, key.workspaceId, events, {
        receivedAt: new Date(),
        batchSentAt: parseSentAt(request.body.sentAt),
        defaultCountry: app.ctx.config.defaultCountry,
      });
      return { success: result.rejected.length === 0, ...result };
    },
  );
};

declare module "fastify" {
  interface FastifyRequest {
    writeKey?: { workspaceId: string; keyId: string };
  }
}
