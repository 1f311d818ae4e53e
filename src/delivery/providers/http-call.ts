import type { SendResult } from "./types.ts";

/** A provider's HTTP answer, its body read (JSON when it parses, else undefined). */
export type HttpAnswer = { status: number; headers: Headers; json: unknown; text: string };

export type HttpCall =
  | { ok: true; answer: HttpAnswer }
  | { ok: false; result: Extract<SendResult, { ok: false }> };

export const DEFAULT_PROVIDER_TIMEOUT_MS = 10_000;

/**
 * Calls a provider's HTTP API with a deadline. Network errors, timeouts and an aborted
 * attempt become retryable failures, so callers only map real answers.
 */
export async function callProvider(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  signal: AbortSignal,
  timeoutMs: number,
): Promise<HttpCall> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.any([signal, deadline]) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { ok: true, answer: { status: res.status, headers: res.headers, json, text } };
  } catch (err) {
    if (deadline.aborted) {
      return {
        ok: false,
        result: { ok: false, retryable: true, reason: `timeout: no answer in ${timeoutMs} ms` },
      };
    }
    if (signal.aborted) {
      return {
        ok: false,
        result: { ok: false, retryable: true, reason: "aborted: the attempt was cancelled" },
      };
    }
    const message =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { ok: false, result: { ok: false, retryable: true, reason: `network: ${message}` } };
  }
}

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const raw = headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** A retryable failure for a throttled or failing provider, honouring its Retry-After. */
export function retryableAnswer(answer: HttpAnswer, reason: string): Extract<SendResult, { ok: false }> {
  const after = retryAfterMs(answer.headers);
  return { ok: false, retryable: true, reason, ...(after !== undefined ? { retryAfterMs: after } : {}) };
}

/** True for answers another attempt may get past: throttling, timeouts, server errors. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
