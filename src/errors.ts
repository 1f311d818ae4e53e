/**
 * One error type for the whole product. Domain modules throw `AppError` with a stable,
 * dotted code (`profiles.invalid_email`); the HTTP layer maps the code to a status in one
 * place (src/http/error-status.ts) and renders `{ error: { code, message, details } }`.
 */
export class AppError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
}

/** True when `err` is an AppError with the given code (handy in tests and retries). */
export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
