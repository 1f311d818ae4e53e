/**
 * The one map from error code to HTTP status. Codes are `<module>.<reason>`; an exact code
 * wins over its suffix rule, and anything unknown is a 400 (the client sent something we
 * refused) unless it is not an AppError at all (then 500).
 */
const exact: Record<string, number> = {
  "auth.unauthorized": 401,
  "auth.invalid_credentials": 401,
  "auth.forbidden": 403,
  "auth.account_disabled": 403,
  "auth.workspace_required": 409,
  "auth.rate_limited": 429,
  "request.too_large": 413,
  "request.unsupported_media_type": 415,
  "request.rate_limited": 429,
  "jobs.dedupe_conflict": 409,
  // the message is in a state that cannot be sent again (delivered, queued, a note)
  "conversations.not_retryable": 409,
  // a bus message is built by our own code: too large is our bug, not the client's
  "realtime.message_too_large": 500,
  // Segment answers 400 to oversized events and batches; its clients drop rather than retry those
  "ingest.event_too_large": 400,
  "ingest.batch_too_large": 400,
  // Stripe's answer to a reused idempotency key with another request
  "delivery.idempotency_key_reused": 422,
  "delivery.template_render_failed": 422,
  // a refused destination is bad input, not a lack of permission
  "webhooks.url_forbidden": 400,
  "consent.invalid_user_hash": 401,
  // a file the reply may not carry (a program, a script) is bad input, not a lack of permission
  "attachments.type_forbidden": 400,
  // Twilio refused to place a call, or could not be reached: the gateway's failure, not the client's
  "twilio.call_failed": 502,
};

// matched after the module's dot or an underscore: `users.not_found`, `profiles.customer_not_found`
const suffixes: Array<[string, number]> = [
  ["not_found", 404],
  ["conflict", 409],
  ["already_exists", 409],
  ["forbidden", 403],
  ["unauthorized", 401],
  ["too_large", 413],
  ["unprocessable", 422],
];

export function statusForCode(code: string): number {
  const hit = exact[code];
  if (hit !== undefined) return hit;
  for (const [suffix, status] of suffixes) {
    if (code.endsWith(`.${suffix}`) || code.endsWith(`_${suffix}`)) return status;
  }
  return 400;
}
