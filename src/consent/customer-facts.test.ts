import { describe, expect, it } from "vitest";
import {
  customerAddresses,
  customerCountry,
  customerTimezone,
  mainTimezone,
  reachableChannels,
  validTimezone,
} from "./customer-facts.ts";
import { CHANNELS } from "./tables.ts";

const base = { preferred: null, traits: {}, phones: [], defaultTimezone: "UTC" };

describe("customerCountry", () => {
  it("reads traits.country, then traits.address.country, then the phone's country", () => {
    expect(customerCountry({ country: "fr" }, ["+14155550123"])).toBe("FR");
    expect(customerCountry({ address: { country: "DE" } }, ["+14155550123"])).toBe("DE");
    expect(customerCountry({ country: "France" }, ["+33612345678"])).toBe("FR");
    expect(customerCountry({ country: "XX" }, ["+442071234567"])).toBe("GB");
    expect(customerCountry({}, ["not a phone"])).toBeUndefined();
    expect(customerCountry({}, [])).toBeUndefined();
  });
});

describe("customerTimezone", () => {
  it("prefers the customer's choice, then traits.timezone", () => {
    expect(customerTimezone({ ...base, preferred: "Asia/Tokyo", traits: { timezone: "Europe/Paris" } })).toBe(
      "Asia/Tokyo",
    );
    expect(
      customerTimezone({ ...base, traits: { timezone: "Europe/Paris" }, phones: ["+14155550123"] }),
    ).toBe("Europe/Paris");
  });

  it("skips invalid time zones wherever they come from", () => {
    expect(customerTimezone({ ...base, preferred: "Mars/Olympus", traits: { timezone: "Nowhere" } })).toBe(
      "UTC",
    );
    expect(customerTimezone({ ...base, traits: { timezone: 42 }, phones: ["+33612345678"] })).toBe(
      "Europe/Paris",
    );
    expect(customerTimezone({ ...base, defaultTimezone: "Not/AZone" })).toBe("UTC");
  });

  it("derives the zone from the phone's country, the most populous for multi-zone countries", () => {
    expect(customerTimezone({ ...base, phones: ["+33612345678"] })).toBe("Europe/Paris");
    expect(customerTimezone({ ...base, phones: ["+14155550123"] })).toBe("America/New_York");
    expect(customerTimezone({ ...base, phones: ["+61412345678"] })).toBe("Australia/Sydney");
    expect(customerTimezone({ ...base, phones: ["+5511987654321"] })).toBe("America/Sao_Paulo");
    // a single-zone country gets its own city, not the zone it aliases
    expect(customerTimezone({ ...base, phones: ["+4791234567"] })).toBe("Europe/Oslo");
  });

  it("then the locale's region, then the workspace default", () => {
    expect(customerTimezone({ ...base, locale: "fr-CA" })).toBe("America/Toronto");
    expect(customerTimezone({ ...base, traits: { locale: "de_AT" } })).toBe("Europe/Vienna");
    expect(customerTimezone({ ...base, locale: "fr", defaultTimezone: "Europe/Lisbon" })).toBe(
      "Europe/Lisbon",
    );
  });

  it("gives every country a zone this runtime knows", () => {
    for (const c of ["US", "CA", "RU", "CN", "IN", "BR", "MX", "ID", "AU", "GB", "UA", "KZ", "CD"]) {
      const zone = mainTimezone(c);
      expect(zone, c).toBeDefined();
      expect(validTimezone(zone), c).toBe(zone);
    }
  });
});

describe("reachability", () => {
  it("lists the channels a customer's identities reach, in-app only with a user id", () => {
    const identities = [
      { kind: "email", value: "a@example.com" },
      { kind: "phone", value: "+14155550123" },
      { kind: "device_token", value: "tok" },
      { kind: "anonymous_id", value: "anon" },
    ];
    expect(reachableChannels(identities, CHANNELS)).toEqual(["email", "sms", "whatsapp", "push"]);
    expect(reachableChannels([...identities, { kind: "user_id", value: "u1" }], CHANNELS)).toContain(
      "in_app",
    );
    expect(customerAddresses(identities)).toHaveLength(4);
  });
});
