import type { FastifyError } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError } from "../errors.ts";
import { statusForCode } from "./error-status.ts";

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
        body: {
          error: { code: "request.malformed_json", message: `The body is not valid JSON: ${fe.message}` },
        },
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: {
          error: {
            code: "request.too_large",
            message: "The request body is larger than this endpoint accepts.",
          },
        },
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
      body: {
        error: { code: "request.rate_limited", message: "Too many requests; wait a moment and try again." },
      },
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
