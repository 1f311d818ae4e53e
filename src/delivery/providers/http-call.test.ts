import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { callProvider, isTransientStatus, retryAfterMs } from "./http-call.ts";

describe("Retry-After", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it("reads seconds and HTTP dates, ignores garbage", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "7" }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 12:00:30 GMT" }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 11:00:00 GMT" }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it("transient statuses are throttling, timeouts and server errors", () => {
    expect([408, 429, 500, 503].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404, 409].some(isTransientStatus)).toBe(false);
  });
});

describe("callProvider", () => {
  it("turns timeouts, cancellations and refused connections into retryable failures", async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no port");
    const url = `http://127.0.0.1:${address.port}/`;
    try {
      const slow = await callProvider(url, { method: "GET", headers: {} }, new AbortController().signal, 150);
      expect(slow).toEqual({
        ok: false,
        result: { ok: false, retryable: true, reason: "timeout: no answer in 150 ms" },
      });
      const cancelled = new AbortController();
      setTimeout(() => cancelled.abort(), 50);
      const aborted = await callProvider(url, { method: "GET", headers: {} }, cancelled.signal, 5000);
      expect(aborted).toMatchObject({
        ok: false,
        result: { retryable: true, reason: expect.stringMatching(/^aborted/) },
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    const refused = await callProvider(
      url,
      { method: "GET", headers: {} },
      new AbortController().signal,
      1000,
    );
    expect(refused).toMatchObject({
      ok: false,
      result: { retryable: true, reason: expect.stringMatching(/^network: /) },
    });
  });
});
