import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import fastifyWebsocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { AppContext } from "../context.ts";
import { type Bus, createBus } from "../realtime/bus.ts";
import { toErrorResponse } from "./error-response.ts";
import { attachmentRoutes } from "./routes/attachments.ts";
import { cannedResponseRoutes } from "./routes/canned-responses.ts";
import { consentRoutes } from "./routes/consent.ts";
import { conversationRoutes } from "./routes/conversations.ts";
import { customerRoutes } from "./routes/customers.ts";
import { emailInboundRoutes } from "./routes/email-inbound.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { messageCenterRoutes } from "./routes/message-center.ts";
import { messageHtmlRoutes } from "./routes/message-html.ts";
import { messageRoutes } from "./routes/messages.ts";
import { metaInboundRoutes } from "./routes/meta-inbound.ts";
import { platformRoutes } from "./routes/platform.ts";
import { preferenceCenterRoutes } from "./routes/preference-center.ts";
import { providerCallbackRoutes } from "./routes/provider-callbacks.ts";
import { realtimeRoutes } from "./routes/realtime.ts";
import { simulatorRoutes } from "./routes/simulator.ts";
import { systemRoutes } from "./routes/system.ts";
import { templateRoutes } from "./routes/templates.ts";
import { twilioInboundRoutes } from "./routes/twilio-inbound.ts";
import { voiceRoutes } from "./routes/voice.ts";
import { webAppRoutes } from "./routes/web-app.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { widgetRoutes } from "./routes/widget.ts";
import { xInboundRoutes } from "./routes/x-inbound.ts";

export type App = FastifyInstance;

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
    /** Realtime fan-out for streams to apps and agents (opened with the app, closed with it). */
    bus: Bus;
  }
}

/** Builds the HTTP server: plugins, error mapping, OpenAPI, and every module's routes. */
export async function buildApp(ctx: AppContext): Promise<App> {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    // X-Forwarded-For is believed only behind a proxy the admin declared, or rate limits could be dodged
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 1024 * 1024,
    // one line per request is noise at ingestion rates; debug level turns it back on
    logController: new LogController({
      disableRequestLogging: ctx.config.logLevel !== "debug" && ctx.config.logLevel !== "trace",
    }),
  });
  app.decorate("ctx", ctx);
  const bus = await createBus(ctx.database, undefined, { logger: ctx.logger });
  app.decorate("bus", bus);
  app.addHook("onClose", async () => {
    await bus.close();
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, "request failed");
    reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: "route.not_found",
        message: `No route for ${request.method} ${request.url.split("?")[0]}.`,
      },
    });
  });

  await app.register(fastifyHelmet, { global: true, contentSecurityPolicy: false });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Rapport API",
        version: "1",
        description:
          "REST API of Rapport. Authenticate with a workspace secret key: `Authorization: Bearer <key>`. " +
          "Errors are `{ error: { code, message, details } }`. Event ingestion (`/v1/*`) follows the " +
          "Segment HTTP Tracking API and authenticates with a write key as the Basic user name.",
      },
      components: {
        securitySchemes: {
          secretKey: { type: "http", scheme: "bearer" },
          writeKey: { type: "http", scheme: "basic" },
          sessionCookie: { type: "apiKey", in: "cookie", name: "rapport_session" },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/api/docs" });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(systemRoutes);
  await typed.register(platformRoutes);
  await typed.register(ingestRoutes);
  await typed.register(customerRoutes);
  await typed.register(consentRoutes);
  await typed.register(preferenceCenterRoutes);
  await typed.register(messageRoutes);
  await typed.register(templateRoutes);
  await typed.register(webhookRoutes);
  await typed.register(messageCenterRoutes);
  await typed.register(providerCallbackRoutes);
  await typed.register(conversationRoutes);
  await typed.register(messageHtmlRoutes);
  await app.register(realtimeRoutes);
  await typed.register(twilioInboundRoutes);
  await typed.register(emailInboundRoutes);
  await typed.register(metaInboundRoutes);
  await typed.register(xInboundRoutes);
  await typed.register(widgetRoutes);
  await typed.register(voiceRoutes);
  await typed.register(attachmentRoutes);
  await typed.register(cannedResponseRoutes);
  await typed.register(simulatorRoutes);
  await app.register(webAppRoutes);
  return app;
}
