import { describe, expect, it } from "vitest";
import { isUuid, uuidv7 } from "./ids.ts";

describe("uuidv7", () => {
  it("is a well-formed version 7 UUID with the RFC 9562 variant", () => {
    const id = uuidv7();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
  });

  it("sorts by creation time, also within one millisecond", () => {
    const ids = [uuidv7(1000), uuidv7(1000), uuidv7(1000), uuidv7(2000), uuidv7(2000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("rejects malformed ids", () => {
    expect(isUuid("not-a-uuid")).toBe(false);
    expect(isUuid("0191e8a0-0000-7000-8000-00000000000")).toBe(false);
  });
});
