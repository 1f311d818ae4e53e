import { z } from "zod";

/**
 * When to try a message again. `delaysMs[i]` is the nominal wait after attempt i+1 failed, so
 * a message gets `delaysMs.length + 1` attempts. Jitter spreads retries of messages that failed
 * together (a receiver's outage) so they do not all come back at once.
 */
export const RetryPolicy = z.object({
  delaysMs: z.array(z.number().int().min(0)).max(50),
  /** "equal" waits between half and all of the nominal delay; "full" anywhere from 0 to it. */
  jitter: z.enum(["equal", "full", "none"]),
  /** A receiver's `Retry-After` is obeyed up to this long. */
  maxRetryAfterMs: z.number().int().min(0),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

/**
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 20 h, 24 h: 11 attempts over 3.6 days at the
 * nominal delays. Equal jitter rather than full: full jitter could draw the 24 h wait down to
 * minutes, and a receiver down for a day would then lose messages the schedule promised to keep.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  delaysMs: [5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H, 14 * H, 20 * H, 24 * H],
  jitter: "equal",
  maxRetryAfterMs: 24 * H,
};

/** How many attempts a message gets under `policy`. */
export function maxAttempts(policy: RetryPolicy): number {
  return policy.delaysMs.length + 1;
}

/**
 * The wait after attempt `attempt` (1-based) failed, or undefined when it was the last one.
 * `random` is injectable so tests can pin the jitter.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  const nominal = policy.delaysMs[attempt - 1];
  if (nominal === undefined) return undefined;
  if (policy.jitter === "none") return nominal;
  if (policy.jitter === "full") return Math.round(random() * nominal);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * A `Retry-After` header in milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // only IMF-fixdate and the obsolete forms carry a weekday or a month name; plain numbers are handled above
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
