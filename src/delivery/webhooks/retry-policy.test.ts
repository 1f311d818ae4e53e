import { describe, expect, it } from "vitest";
import { decideOutcome } from "./deliver.ts";
import type { PostResult } from "./post.ts";
import {
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  parseRetryAfter,
  type RetryPolicy,
  retryDelayMs,
} from "./retry-policy.ts";

const H = 3_600_000;

describe("the retry schedule", () => {
  it("spans about three days over eleven attempts", () => {
    expect(maxAttempts(DEFAULT_RETRY_POLICY)).toBe(11);
    const nominal = DEFAULT_RETRY_POLICY.delaysMs.reduce((a, b) => a + b, 0);
    expect(nominal / (24 * H)).toBeGreaterThan(3);
    expect(nominal / (24 * H)).toBeLessThan(4);
    // the shortest draw of equal jitter still keeps the window over a day and a half
    const shortest = DEFAULT_RETRY_POLICY.delaysMs.reduce(
      (sum, _, i) => sum + (retryDelayMs(DEFAULT_RETRY_POLICY, i + 1, () => 0) ?? 0),
      0,
    );
    expect(shortest / (24 * H)).toBeGreaterThan(1.5);
  });

  it("jitters within the chosen band and stops after the last delay", () => {
    const p: RetryPolicy = { delaysMs: [1000, 2000], jitter: "equal", maxRetryAfterMs: 10_000 };
    expect(retryDelayMs(p, 1, () => 0)).toBe(500);
    expect(retryDelayMs(p, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(p, 2, () => 0.5)).toBe(1500);
    expect(retryDelayMs(p, 3)).toBeUndefined();
    expect(retryDelayMs({ ...p, jitter: "full" }, 2, () => 0)).toBe(0);
    expect(retryDelayMs({ ...p, jitter: "none" }, 2, () => 0)).toBe(2000);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2025-03-01T12:00:00Z");
  it.each([
    ["2", 2000],
    [" 120 ", 120_000],
    ["0", 0],
    ["Sat, 01 Mar 2025 12:00:30 GMT", 30_000],
    ["Sat, 01 Mar 2025 11:00:00 GMT", 0],
  ])("reads %j as %d ms", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([undefined, "", "-5", "1.5", "soon", "2025-03-01"])("ignores %j", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("decideOutcome", () => {
  const retry: RetryPolicy = { delaysMs: [100, 200, 300], jitter: "none", maxRetryAfterMs: 5000 };
  const res = (
    status: number,
    extra: Partial<Extract<PostResult, { kind: "response" }>> = {},
  ): PostResult => ({
    kind: "response",
    status,
    body: "",
    ...extra,
  });

  it("succeeds on any 2xx", () => {
    for (const s of [200, 201, 202, 204, 299])
      expect(decideOutcome(res(s), 1, { retry }).state).toBe("succeeded");
  });

  it("stops and disables the endpoint on 410 Gone, even on the first attempt", () => {
    expect(decideOutcome(res(410), 1, { retry })).toMatchObject({
      state: "failed",
      disableReason: expect.any(String),
    });
  });

  it("retries 3xx, 4xx, 5xx and network errors on the schedule", () => {
    expect(decideOutcome(res(302, { location: "https://elsewhere.example/" }), 1, { retry })).toMatchObject({
      state: "pending",
      status: 302,
      retryInMs: 100,
      error: expect.stringMatching(/redirect to https:\/\/elsewhere\.example\/ not followed/),
    });
    expect(decideOutcome(res(400), 2, { retry })).toMatchObject({ state: "pending", retryInMs: 200 });
    expect(decideOutcome(res(500, { body: "boom" }), 3, { retry })).toMatchObject({
      error: "HTTP 500: boom",
    });
    expect(decideOutcome({ kind: "error", error: "timed out after 15000 ms" }, 1, { retry })).toMatchObject({
      state: "pending",
      status: null,
      error: "timed out after 15000 ms",
    });
  });

  it("obeys Retry-After on 429 and 503 only, capped", () => {
    expect(decideOutcome(res(429, { retryAfter: "2" }), 1, { retry }).retryInMs).toBe(2000);
    expect(decideOutcome(res(503, { retryAfter: "3600" }), 1, { retry }).retryInMs).toBe(5000);
    expect(decideOutcome(res(500, { retryAfter: "2" }), 1, { retry }).retryInMs).toBe(100);
    expect(decideOutcome(res(429), 1, { retry }).retryInMs).toBe(100);
  });

  it("fails for good after the last attempt", () => {
    expect(decideOutcome(res(500), 4, { retry })).toMatchObject({
      state: "failed",
      error: "HTTP 500 (gave up after 4 attempts)",
    });
    expect(decideOutcome(res(429, { retryAfter: "1" }), 4, { retry }).state).toBe("failed");
  });
});
