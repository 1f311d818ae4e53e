import { describe, expect, it } from "vitest";
import { isGsm7, smsSegments, xLength } from "../web/src/components/composer/sms-segments.ts";

describe("SMS segments", () => {
  it("an empty text is no part", () => {
    expect(smsSegments("")).toEqual({
      encoding: "GSM-7",
      units: 0,
      segments: 0,
      perSegment: 160,
      remaining: 160,
    });
  });

  it("GSM-7: 160 characters fit one part, 161 make two of 153", () => {
    expect(smsSegments("a".repeat(160))).toMatchObject({ segments: 1, remaining: 0, encoding: "GSM-7" });
    expect(smsSegments("a".repeat(161))).toMatchObject({ segments: 2, perSegment: 153, remaining: 145 });
    expect(smsSegments("a".repeat(306))).toMatchObject({ segments: 2, remaining: 0 });
    expect(smsSegments("a".repeat(307))).toMatchObject({ segments: 3 });
  });

  it("extension characters take two septets and are never split", () => {
    expect(isGsm7("Price: 5€ [net]")).toBe(true);
    expect(smsSegments("€".repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(smsSegments("€".repeat(81))).toMatchObject({ units: 162, segments: 2 });
    // 152 septets, then a two-septet character: it starts the second part
    expect(smsSegments(`${"a".repeat(152)}€${"a".repeat(10)}`)).toMatchObject({
      units: 164,
      segments: 2,
      remaining: 153 - 12,
    });
  });

  it("UCS-2 as soon as one character is outside GSM-7: 70, then 67 per part", () => {
    expect(isGsm7("Café ✓")).toBe(false);
    expect(smsSegments(`${"a".repeat(69)}✓`)).toMatchObject({ encoding: "UCS-2", units: 70, segments: 1 });
    expect(smsSegments(`${"a".repeat(70)}✓`)).toMatchObject({
      segments: 2,
      perSegment: 67,
      remaining: 67 - 4,
    });
    expect(smsSegments("ж".repeat(134))).toMatchObject({ segments: 2, remaining: 0 });
    expect(smsSegments("ж".repeat(135))).toMatchObject({ segments: 3 });
  });

  it("an emoji takes two code units and is not cut between parts", () => {
    expect(smsSegments("😀".repeat(35))).toMatchObject({ units: 70, segments: 1 });
    // 66 units, then a two-unit emoji: it moves to the second part
    expect(smsSegments(`${"ж".repeat(66)}😀${"ж".repeat(10)}`)).toMatchObject({
      units: 78,
      segments: 2,
      remaining: 67 - 12,
    });
  });

  it("X counts characters, not code units", () => {
    expect(xLength("😀a")).toBe(2);
  });
});
