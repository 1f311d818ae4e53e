import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { statusForCode } from "./error-status.ts";
import { customerRoutes } from "./routes/customers.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { platformRoutes } from "./routes/platform.ts";
import { systemRoutes } from "./routes/system.ts";

export type App = FastifyInstance;

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

/** Renders any thrown error as `{ error: { code, message, details } }` with the mapped status. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status: statusForCode(err.code), body };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => ({
      path: `${err.validationContext ?? "body"}${v.instancePath.replaceAll("/", ".")}`,
      message: v.message ?? "is invalid",
    }));
    const first = issues[0];
    return {
      status: 400,
      body: {
        error: {
          code: "request.invalid",
          message: first ? `${first.path}: ${first.message}` : "The request is invalid.",
          details: { issues },
        },
      },
    };
  }
  const fe = err as Partial<FastifyError>;
  switch (fe.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: { error: { code: "request.malformed_json", message: `The body is not valid JSON: ${fe.message}` } },
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: { error: { code: "request.too_large", message: "The request body is larger than this endpoint accepts." } },
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: {
          error: {
            code: "request.unsupported_media_type",
            message: "Send the body as application/json.",
          },
        },
      };
    case "FST_ERR_VALIDATION":
      return { status: 400, body: { error: { code: "request.invalid", message: fe.message ?? "invalid" } } };
  }
  if (fe.statusCode === 429) {
    return {
      status: 429,
      body: { error: { code: "request.rate_limited", message: "Too many requests; wait a moment and try again." } },
    };
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return {
      status: fe.statusCode,
      body: { error: { code: "request.invalid", message: fe.message ?? "The request is invalid." } },
    };
  }
  return { status: 500, body: { error: { code: "internal", message: "Something went wrong on our side." } } };
}

/** Builds the HTTP server: plugins, error mapping, OpenAPI, and every module's routes. */
export async function buildApp(ctx: AppContext): Promise<App> {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: true,
    bodyLimit: 1024 * 1024,
    // one line per request is noise at ingestion rates; debug level turns it back on
    logController: new LogController({
      disableRequestLogging: ctx.config.logLevel !== "debug" && ctx.config.logLevel !== "trace",
    }),
  });
  app.decorate("ctx", ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, "request failed");
    reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: { code: "route.not_found", message: `No route for ${request.method} ${request.url.split("?")[0]}.` },
    });
  });

  await app.register(fastifyHelmet, { global: true, contentSecurityPolicy: false });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });
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
  return app;
}
