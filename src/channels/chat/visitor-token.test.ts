import { describe, expect, it } from "vitest";
import {
  peekVisitorToken,
  signVisitorToken,
  type VisitorClaims,
  verifyVisitorToken,
} from "./visitor-token.ts";

const claims: VisitorClaims = {
  purpose: "chat",
  workspaceId: "0198f5a0-0000-7000-8000-000000000001",
  inboxId: "0198f5a0-0000-7000-8000-000000000002",
  customerId: "0198f5a0-0000-7000-8000-000000000003",
  anonymousId: "0c1f6a3e-8d2b-4c5e-9f10-112233445566",
  exp: 2_000_000_000,
};

describe("visitor tokens", () => {
  it("verifies its own tokens and reads the workspace before checking", () => {
    const token = signVisitorToken("secret-a", claims);
    expect(peekVisitorToken(token)).toEqual({ workspaceId: claims.workspaceId, inboxId: claims.inboxId });
    expect(verifyVisitorToken("secret-a", token, 1_000)).toEqual({ ok: true, claims });
  });

  it("refuses another secret, another inbox's key, changed claims, expiry and garbage", () => {
    const token = signVisitorToken("secret-a", claims);
    expect(verifyVisitorToken("secret-b", token)).toEqual({ ok: false, reason: "bad_signature" });
    const moved = signVisitorToken("secret-a", {
      ...claims,
      inboxId: "0198f5a0-0000-7000-8000-000000000009",
    });
    const [, otherSig] = moved.split(".");
    const [body] = token.split(".");
    expect(verifyVisitorToken("secret-a", `${body}.${otherSig}`)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    const forged = Buffer.from(JSON.stringify({ ...claims, userId: "u-1" })).toString("base64url");
    expect(verifyVisitorToken("secret-a", `${forged}.${token.split(".")[1]}`)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyVisitorToken("secret-a", token, 2_000_000_001_000)).toEqual({
      ok: false,
      reason: "expired",
    });
    for (const bad of ["", "x", "a.b.c", `${body}`]) {
      expect(verifyVisitorToken("secret-a", bad).ok).toBe(false);
    }
  });
});
