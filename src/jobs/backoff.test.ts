import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.ts";

describe("backoffDelayMs", () => {
  it("doubles from the base and stops at the cap", () => {
    const none = { baseMs: 100, maxMs: 1_000, jitter: "none" } as const;
    expect([1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelayMs(a, none))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it("draws full jitter from [0, d] and equal jitter from [d/2, d]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const d = Math.min(5_000, 100 * 2 ** (attempt - 1));
          const full = backoffDelayMs(attempt, { baseMs: 100, maxMs: 5_000, jitter: "full" }, () => r);
          const equal = backoffDelayMs(attempt, { baseMs: 100, maxMs: 5_000, jitter: "equal" }, () => r);
          expect(full).toBeGreaterThanOrEqual(0);
          expect(full).toBeLessThanOrEqual(d);
          expect(equal).toBeGreaterThanOrEqual(d / 2);
          expect(equal).toBeLessThanOrEqual(d);
        },
      ),
    );
  });

  it("rejects nonsense options", () => {
    expect(() => backoffDelayMs(1, { baseMs: -1 })).toThrow();
  });
});
