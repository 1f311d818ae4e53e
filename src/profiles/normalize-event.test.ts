import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SegmentEvent } from "../contracts/segment.ts";
import { normalizeEvent, quickParse } from "./normalize-event.ts";

// Values a sender may put in each field: mostly good ones, so that whole events are often
// valid, and now and then a bad or odd one, so the quick path and the schema are compared on
// both sides of every rule.
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: bad });
const text = (max: number) => fc.string({ maxLength: max });
const idValue = mostly(
  fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant("  user-7  "), text(20)),
  fc.oneof(
    fc.constant(""),
    fc.constant("   "),
    fc.string({ minLength: 510, maxLength: 515 }),
    fc.integer(),
    fc.double(),
    fc.constant({ id: 1 }),
  ),
);
const time = mostly(
  fc.oneof(
    fc.constant(undefined),
    fc
      .date({ min: new Date("1990-01-01"), max: new Date("2090-01-01"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constant("2026-01-31"),
    fc.constant("2026-01-31T12:00:00+02:00"),
  ),
  fc.constantFrom(null, "2026-13-45T00:00:00Z", "31/01/2026", "tomorrow", 1769860800000),
);
const plainObject = fc.dictionary(text(6), fc.oneof(fc.integer(), text(8), fc.constant(null)), {
  maxKeys: 3,
});
const dict = mostly(
  fc.oneof(fc.constant(undefined), plainObject),
  fc.constantFrom(
    null,
    [],
    [1, 2],
    "a string",
    7,
    { constructor: "x" },
    Object.assign(Object.create(null), { a: 1 }),
  ),
);
const shortText = mostly(
  fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(""), text(12)),
  fc.oneof(fc.string({ minLength: 199, maxLength: 202 }), fc.integer()),
);
const rawEvent = fc.record(
  {
    type: fc.constantFrom("identify", "track", "page", "screen", "group", "alias", "other"),
    messageId: mostly(fc.oneof(fc.constant(undefined), text(12)), fc.constantFrom(null, "", 42)),
    userId: idValue,
    anonymousId: idValue,
    timestamp: time,
    originalTimestamp: time,
    sentAt: time,
    context: dict,
    properties: dict,
    traits: dict,
    event: shortText,
    name: shortText,
    category: shortText,
    groupId: idValue,
    previousId: idValue,
    extra: fc.anything(),
  },
  { requiredKeys: ["type"] },
);

describe("quickParse", () => {
  it("reads every event it takes exactly as the Segment schema does, and leaves the rest to it", () => {
    let taken = 0;
    fc.assert(
      fc.property(rawEvent, (raw) => {
        const quick = quickParse(raw);
        if (quick === undefined) return;
        taken++;
        const schema = SegmentEvent.safeParse(raw);
        expect(schema.success).toBe(true);
        expect(quick).toEqual(schema.data);
      }),
      { numRuns: 3000 },
    );
    // the comparison means something only if the quick path took a fair share of the events
    expect(taken).toBeGreaterThan(30);
  });

  it("takes the shapes nearly every event has", () => {
    const context = { library: { name: "analytics-node", version: "2" }, ip: "203.0.113.9" };
    const common = { messageId: "m-1", timestamp: "2026-01-31T12:00:00.000Z", context };
    const events = [
      { ...common, type: "track", userId: "u-1", event: "Song Played", properties: { ms: 1 } },
      { ...common, type: "track", anonymousId: "a-1", event: "Pricing Viewed" },
      { ...common, type: "page", userId: "u-1", name: "Home", properties: { path: "/" } },
      { ...common, type: "screen", userId: "u-1", name: "Player" },
      { ...common, type: "identify", userId: "u-1", traits: { email: "Ann@Example.com", plan: "pro" } },
      { type: "identify", anonymousId: "a-2", userId: null },
    ];
    for (const raw of events) {
      expect(quickParse(raw), JSON.stringify(raw)).toEqual(SegmentEvent.parse(raw));
    }
  });

  it("leaves every bad event to the schema, which names what is wrong", () => {
    const ctx = { receivedAt: new Date("2026-01-31T12:00:00Z"), defaultCountry: "FR" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: "track", userId: "u", event: "" }, "event: a track call needs an event name"],
      [{ type: "track", userId: "u", event: "x", timestamp: "31/01/2026" }, "timestamp: must be an ISO 8601"],
      [{ type: "page", userId: "u", properties: [1] }, "properties:"],
      [{ type: "identify", userId: "   " }, "userId: must not be empty"],
      [{ type: "track", userId: "u", event: "x", messageId: "" }, "messageId:"],
      [{ type: "screen", userId: "u", name: "n".repeat(201) }, "name:"],
    ];
    for (const [raw, message] of cases) {
      expect(quickParse(raw)).toBeUndefined();
      const r = normalizeEvent(raw, ctx);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe("ingest.invalid_event");
        expect(r.message).toContain(message);
      }
    }
  });
});
