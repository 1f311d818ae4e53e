import { describe, expect, it } from "vitest";
import { isAppError } from "../errors.ts";
import { allowedLanguages, validatePreferencesPatch } from "./preferences.ts";

const now = new Date("2030-01-15T12:00:00Z");
const ctx = { now, languages: ["en", "fr"] };

function refused(patch: Record<string, unknown>, field: string) {
  try {
    validatePreferencesPatch(patch, ctx);
  } catch (err) {
    expect(isAppError(err, "consent.invalid_preferences")).toBe(true);
    expect(err instanceof Error && err.message.startsWith(`${field}:`)).toBe(true);
    return;
  }
  throw new Error(`${JSON.stringify(patch)} was accepted`);
}

describe("validatePreferencesPatch", () => {
  it("normalises valid values and keeps absent fields absent", () => {
    expect(
      validatePreferencesPatch(
        {
          timezone: "europe/paris",
          language: "fr-CA",
          quietHours: { start: "21:30", end: "07:00" },
          pausedUntil: "2030-02-15T12:00:00Z",
          channelOrder: ["sms", "email"],
        },
        ctx,
      ),
    ).toEqual({
      timezone: "Europe/Paris",
      language: "fr",
      quietHours: { start: "21:30", end: "07:00" },
      pausedUntil: new Date("2030-02-15T12:00:00Z"),
      channelOrder: ["sms", "email"],
    });
    expect(validatePreferencesPatch({}, ctx)).toEqual({});
    expect(validatePreferencesPatch({ timezone: null, quietHours: null, pausedUntil: null }, ctx)).toEqual({
      timezone: null,
      quietHours: null,
      pausedUntil: null,
    });
  });

  it("refuses each bad field by name", () => {
    refused({ timezone: "Mars/Olympus" }, "timezone");
    refused({ timezone: 7 }, "timezone");
    refused({ language: "de" }, "language");
    refused({ language: "not a tag!" }, "language");
    refused({ quietHours: { start: "21:00", end: "21:00" } }, "quietHours");
    refused({ quietHours: { start: "24:00", end: "07:00" } }, "quietHours");
    refused({ quietHours: { start: "9:00", end: "17:00" } }, "quietHours");
    refused({ quietHours: "21:00-07:00" }, "quietHours");
    refused({ pausedUntil: "2030-01-15T11:59:59Z" }, "pausedUntil");
    refused({ pausedUntil: "2031-01-17T12:00:00Z" }, "pausedUntil");
    refused({ pausedUntil: "tomorrow" }, "pausedUntil");
    refused({ channelOrder: ["email", "fax"] }, "channelOrder");
    refused({ channelOrder: ["sms", "sms"] }, "channelOrder");
    refused({ channelOrder: "email" }, "channelOrder");
    refused({ colour: "blue" }, "colour");
  });

  it("allows a pause of exactly a year, and a language the workspace speaks", () => {
    expect(validatePreferencesPatch({ pausedUntil: "2031-01-15T12:00:00Z" }, ctx).pausedUntil).toEqual(
      new Date("2031-01-15T12:00:00Z"),
    );
    const languages = allowedLanguages({ defaultLanguage: "de" });
    expect(languages).toEqual(["en", "fr", "de"]);
    expect(validatePreferencesPatch({ language: "de-AT" }, { now, languages }).language).toBe("de");
  });
});
