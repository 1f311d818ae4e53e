import { z } from "zod";

/**
 * Retry delays: exponential growth from `baseMs`, capped at `maxMs`, with jitter so that jobs
 * failing together (a provider outage) do not retry together. "full" draws the delay from
 * [0, d]; "equal" from [d/2, d], which keeps a floor under the wait.
 */
export const BackoffOptions = z.object({
  baseMs: z.number().int().min(0),
  maxMs: z.number().int().min(0),
  jitter: z.enum(["full", "equal", "none"]),
});
export type BackoffOptions = z.infer<typeof BackoffOptions>;

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 60 * 60 * 1000, jitter: "equal" };

/**
 * The wait before the next attempt after `attempt` failed (attempt 1 is the first run).
 * `random` is injectable so tests can pin the jitter.
 */
export function backoffDelayMs(
  attempt: number,
  options: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): number {
  const { baseMs, maxMs, jitter } = BackoffOptions.parse({ ...DEFAULT_BACKOFF, ...options });
  // 2^30 already exceeds any sane cap; clamping the exponent keeps the number finite
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const capped = Math.min(maxMs, baseMs * 2 ** exponent);
  if (jitter === "none") return Math.round(capped);
  if (jitter === "full") return Math.round(random() * capped);
  return Math.round(capped / 2 + random() * (capped / 2));
}
