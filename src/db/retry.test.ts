import { describe, expect, it } from "vitest";
import { isRetryableDbError, isUniqueViolation, withRetry } from "./retry.ts";

/** An error as pg raises it, wrapped as drizzle wraps it. */
const wrapped = (fields: Record<string, unknown>, depth = 1): unknown => {
  let err: unknown = Object.assign(new Error("database error"), fields);
  for (let i = 0; i < depth; i++) err = new Error(`Failed query (${i})`, { cause: err });
  return err;
};

describe("reading the database's error behind a wrapper", () => {
  it("finds a unique violation, of the named constraint only", () => {
    const err = wrapped({ code: "23505", constraint: "events_message_id_key" });
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(err, "events_message_id_key")).toBe(true);
    expect(isUniqueViolation(err, "customers_pkey")).toBe(false);
    expect(isUniqueViolation(wrapped({ code: "23503", constraint: "events_message_id_key" }))).toBe(false);
  });

  it("looks through three wrappers, not further, and past errors without a code", () => {
    expect(isUniqueViolation(wrapped({ code: "23505" }, 3))).toBe(true);
    expect(isUniqueViolation(wrapped({ code: "23505" }, 4))).toBe(false);
    expect(isUniqueViolation(new Error("no code"))).toBe(false);
    expect(isUniqueViolation("23505")).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });

  it("retries deadlocks, serialization failures and unique races, nothing else", () => {
    for (const code of ["40P01", "40001", "23505"]) expect(isRetryableDbError(wrapped({ code }))).toBe(true);
    for (const code of ["23503", "22P02", "ECONNRESET"])
      expect(isRetryableDbError(wrapped({ code }))).toBe(false);
    expect(isRetryableDbError(new Error("plain"))).toBe(false);
  });

  it("runs again after a lost race, and gives up after the attempts or on another error", async () => {
    let calls = 0;
    const lost = () => {
      calls += 1;
      if (calls < 3) throw wrapped({ code: "40P01" });
      return Promise.resolve("done");
    };
    await expect(withRetry(lost)).resolves.toBe("done");
    expect(calls).toBe(3);

    calls = 0;
    const always = () => {
      calls += 1;
      return Promise.reject(wrapped({ code: "40001" }));
    };
    await expect(withRetry(always, 2)).rejects.toThrow("Failed query");
    expect(calls).toBe(2);

    calls = 0;
    const other = () => {
      calls += 1;
      return Promise.reject(wrapped({ code: "23503" }));
    };
    await expect(withRetry(other)).rejects.toThrow("Failed query");
    expect(calls).toBe(1);
  });
});
