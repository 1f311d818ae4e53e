import { describe, expect, it } from "vitest";
import { lifecycleOf } from "../web/src/components/customer/lifecycle.ts";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const daysAgo = (n: number) => new Date(NOW - n * 86_400_000).toISOString();
const customer = (over: {
  kinds?: string[];
  traits?: Record<string, unknown>;
  first?: number;
  last?: number;
}) => ({
  traits: over.traits ?? {},
  identities: (over.kinds ?? []).map((kind) => ({ kind })),
  firstSeenAt: daysAgo(over.first ?? 400),
  lastSeenAt: daysAgo(over.last ?? 1),
});

describe("a customer's lifecycle in the 360", () => {
  it("says who they are to the brand: anonymous, a contact, or a user of the product", () => {
    expect(lifecycleOf(customer({ kinds: ["anonymous_id"] }), NOW).relation).toBe("anonymous");
    expect(lifecycleOf(customer({ kinds: [] }), NOW).relation).toBe("anonymous");
    expect(lifecycleOf(customer({ kinds: ["anonymous_id", "email"] }), NOW).relation).toBe("contact");
    expect(lifecycleOf(customer({ kinds: ["messenger_psid"] }), NOW).relation).toBe("contact");
    expect(lifecycleOf(customer({ kinds: ["phone", "user_id"] }), NOW).relation).toBe("user");
  });

  it("says how recently they were seen, at the 30- and 90-day marks", () => {
    const at = (first: number, last: number) => lifecycleOf(customer({ first, last }), NOW).activity;
    expect(at(10, 1)).toBe("new");
    expect(at(30, 30)).toBe("new");
    expect(at(31, 1)).toBe("active");
    expect(at(400, 30)).toBe("active");
    expect(at(400, 31)).toBe("dormant");
    expect(at(400, 90)).toBe("dormant");
    expect(at(400, 91)).toBe("lapsed");
    // lapsed wins over new: a customer first seen long ago is never "new" again
    expect(at(95, 91)).toBe("lapsed");
  });

  it("shows the brand's own stage when a trait names one, trimmed and kept short", () => {
    expect(lifecycleOf(customer({ traits: { lifecycle_stage: " Evangelist " } }), NOW).stage).toBe(
      "Evangelist",
    );
    expect(lifecycleOf(customer({ traits: { lifecycleStage: "trial" } }), NOW).stage).toBe("trial");
    expect(lifecycleOf(customer({ traits: { lifecycle: "x".repeat(100) } }), NOW).stage).toHaveLength(60);
    // not a text, or empty: no stage of the brand's
    expect(lifecycleOf(customer({ traits: { lifecycle_stage: 3 } }), NOW).stage).toBeUndefined();
    expect(lifecycleOf(customer({ traits: { lifecycle_stage: "  " } }), NOW).stage).toBeUndefined();
  });
});
