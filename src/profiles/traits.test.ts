import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyTraits, combineTraits } from "./traits.ts";

const t = (s: string) => new Date(`2026-01-0${s}T00:00:00Z`);

describe("applyTraits", () => {
  it("merges top-level keys and records when each was set", () => {
    const s = applyTraits({ traits: { a: 1, b: 2 }, times: {} }, { b: 3, c: { x: 1 } }, t("2"));
    expect(s.traits).toEqual({ a: 1, b: 3, c: { x: 1 } });
    expect(s.times).toEqual({ b: "2026-01-02T00:00:00.000Z", c: "2026-01-02T00:00:00.000Z" });
    expect(s.changed).toBe(true);
  });

  it("never lets an older event overwrite a newer value", () => {
    const newer = applyTraits({ traits: {}, times: {} }, { plan: "pro" }, t("5"));
    const late = applyTraits(newer, { plan: "free", city: "Lyon" }, t("3"));
    expect(late.traits).toEqual({ plan: "pro", city: "Lyon" });
  });

  it("removes a trait on null, unless a newer value is held", () => {
    const s = applyTraits(
      { traits: { a: 1 }, times: { a: "2026-01-02T00:00:00.000Z" } },
      { a: null },
      t("3"),
    );
    expect(s.traits).toEqual({});
    const kept = applyTraits(
      { traits: { a: 1 }, times: { a: "2026-01-05T00:00:00.000Z" } },
      { a: null },
      t("3"),
    );
    expect(kept.traits).toEqual({ a: 1 });
  });

  it("ends in the same state whatever the order the updates arrive in", () => {
    const update = fc.record({
      traits: fc.dictionary(fc.constantFrom("a", "b", "c"), fc.integer()),
      day: fc.integer({ min: 1, max: 9 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(update, { selector: (u) => u.day, maxLength: 6 }), (updates) => {
        const run = (list: typeof updates) =>
          list.reduce((s, u) => applyTraits(s, u.traits, t(String(u.day))), { traits: {}, times: {} }).traits;
        expect(run([...updates].reverse())).toEqual(run(updates));
      }),
    );
  });
});

describe("combineTraits", () => {
  it("keeps the newer value of each key", () => {
    const a = { traits: { plan: "free", city: "Paris" }, times: { plan: "2026-01-01", city: "2026-01-09" } };
    const b = {
      traits: { plan: "pro", city: "Lyon", vip: true },
      times: { plan: "2026-01-05", city: "2026-01-02" },
    };
    expect(combineTraits(a, b).traits).toEqual({ plan: "pro", city: "Paris", vip: true });
  });
});
