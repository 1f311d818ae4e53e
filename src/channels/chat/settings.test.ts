import { describe, expect, it } from "vitest";
import type { Inbox } from "../../conversations/inboxes.ts";
import { chatSettings, contrastWithWhite } from "./settings.ts";

const inbox = (config: Record<string, unknown>): Inbox => ({
  id: "0198f5a0-0000-7000-8000-000000000001",
  kind: "chat",
  name: "Chat",
  channel: "in_app",
  address: null,
  config,
  assignment: "manual",
  teamId: null,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
});

describe("chat inbox settings", () => {
  it("defaults every setting, so a bare chat inbox works", () => {
    expect(chatSettings(inbox({}))).toEqual({
      identityVerification: "optional",
      emailFallbackMinutes: 5,
      allowedOrigins: [],
      greeting: {},
      color: "#1d4ed8",
    });
  });

  it("keeps the good settings and drops a bad one rather than breaking the widget", () => {
    const s = chatSettings(
      inbox({
        identityVerification: "enforced",
        emailFallbackMinutes: -3,
        color: "#ffff00",
        greeting: { fr: "Salut" },
      }),
    );
    expect(s).toMatchObject({
      identityVerification: "enforced",
      emailFallbackMinutes: 5,
      color: "#1d4ed8",
      greeting: { fr: "Salut" },
    });
  });

  it("measures white text's contrast as WCAG does", () => {
    expect(contrastWithWhite("#000000")).toBeCloseTo(21, 5);
    expect(contrastWithWhite("#ffffff")).toBeCloseTo(1, 5);
    expect(contrastWithWhite("#1d4ed8")).toBeGreaterThan(4.5);
    expect(contrastWithWhite("#ffff00")).toBeLessThan(4.5);
  });
});
