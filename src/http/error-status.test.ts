import { describe, expect, it } from "vitest";
import { statusForCode } from "./error-status.ts";

describe("statusForCode", () => {
  it("maps exact codes, then suffixes after a dot or underscore, else 400", () => {
    expect(statusForCode("auth.unauthorized")).toBe(401);
    expect(statusForCode("users.not_found")).toBe(404);
    expect(statusForCode("profiles.customer_not_found")).toBe(404);
    expect(statusForCode("profiles.merge_conflict")).toBe(409);
    expect(statusForCode("ingest.event_too_large")).toBe(400);
    expect(statusForCode("profiles.invalid_email")).toBe(400);
    // a word that merely ends the same way is not a suffix match
    expect(statusForCode("x.unconflict")).toBe(400);
  });
});
