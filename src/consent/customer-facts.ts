import ct from "countries-and-timezones";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import type { Channel } from "./tables.ts";

// Facts about a customer that consent and the Gate derive rather than store: where they
// live (for opt-in countries), their time zone (for quiet hours) and where they can be reached.

const ISO2 = /^[A-Za-z]{2}$/;

function countryFrom(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  if (!ISO2.test(v)) return undefined;
  const code = v.toUpperCase();
  return ct.getCountry(code) ? code : undefined;
}

/**
 * The customer's ISO-3166 alpha-2 country: `traits.country`, else `traits.address.country`
 * (Segment's spec), else the country of their first phone number that parses (E.164).
 */
export function customerCountry(traits: Record<string, unknown>, phones: string[]): string | undefined {
  const direct = countryFrom(traits.country);
  if (direct) return direct;
  const address = traits.address;
  if (typeof address === "object" && address !== null && "country" in address) {
    const fromAddress = countryFrom(address.country);
    if (fromAddress) return fromAddress;
  }
  for (const phone of phones) {
    const country = parsePhoneNumberFromString(phone)?.country;
    if (country) return country;
  }
  return undefined;
}

/** The canonical IANA name when `name` is a time zone this runtime knows, else undefined. */
export function validTimezone(name: unknown): string | undefined {
  if (typeof name !== "string" || name.length === 0 || name.length > 100) return undefined;
  // building a formatter costs tens of microseconds: a broadcast asks for the same few zones
  const known = zoneCache.get(name);
  if (known !== undefined) return known ?? undefined;
  let canonical: string | null;
  try {
    canonical = new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    canonical = null;
  }
  if (zoneCache.size > 5000) zoneCache.clear();
  zoneCache.set(name, canonical);
  return canonical ?? undefined;
}
const zoneCache = new Map<string, string | null>();

// Countries spanning several zones: the zone where most of their people live (capital when
// the split is close). Every other country has one zone of its own, picked by `mainTimezone`.
const MOST_POPULOUS_ZONE: Record<string, string> = {
  AR: "America/Argentina/Buenos_Aires",
  AU: "Australia/Sydney",
  BR: "America/Sao_Paulo",
  CA: "America/Toronto",
  CD: "Africa/Kinshasa",
  CL: "America/Santiago",
  CN: "Asia/Shanghai",
  CY: "Asia/Nicosia",
  DE: "Europe/Berlin",
  EC: "America/Guayaquil",
  ES: "Europe/Madrid",
  FM: "Pacific/Chuuk",
  GL: "America/Nuuk",
  ID: "Asia/Jakarta",
  KI: "Pacific/Tarawa",
  KZ: "Asia/Almaty",
  MH: "Pacific/Majuro",
  MN: "Asia/Ulaanbaatar",
  MX: "America/Mexico_City",
  MY: "Asia/Kuala_Lumpur",
  NZ: "Pacific/Auckland",
  PF: "Pacific/Tahiti",
  PG: "Pacific/Port_Moresby",
  PS: "Asia/Hebron",
  PT: "Europe/Lisbon",
  RU: "Europe/Moscow",
  UA: "Europe/Kyiv",
  US: "America/New_York",
  UZ: "Asia/Tashkent",
  VN: "Asia/Ho_Chi_Minh",
};

/**
 * The main time zone of a country. Multi-zone countries use the most populous zone (table
 * above); the others the zone named after the country's own city, so a Norwegian gets
 * Europe/Oslo rather than the Europe/Berlin it aliases.
 */
export function mainTimezone(country: string): string | undefined {
  const code = country.toUpperCase();
  const picked = MOST_POPULOUS_ZONE[code];
  if (picked) return validTimezone(picked);
  const canonical = ct.getTimezonesForCountry(code) ?? [];
  const withAliases = ct.getTimezonesForCountry(code, { deprecated: true }) ?? [];
  const own = (z: { name: string; countries: string[] }) =>
    z.countries[0] === code && z.name.includes("/") && !z.name.startsWith("Etc/");
  const zone =
    canonical.find(own) ??
    withAliases.find((z) => own(z) && !z.deprecated) ??
    withAliases.find(own) ??
    canonical[0];
  return zone ? validTimezone(zone.name) : undefined;
}

function localeCountry(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  try {
    // only a region the locale states: "fr" alone says nothing about where someone lives
    return countryFrom(new Intl.Locale(locale.replace(/_/g, "-")).region);
  } catch {
    return undefined;
  }
}

/**
 * The time zone to use for a customer: their preference, else `traits.timezone`, else the
 * main zone of their phone's country, then of their locale's region, else the workspace's
 * default. Invalid names are skipped, never used.
 */
export function customerTimezone(input: {
  preferred: string | null;
  traits: Record<string, unknown>;
  phones: string[];
  locale?: string | undefined;
  defaultTimezone: string;
}): string {
  const fromPrefs = validTimezone(input.preferred);
  if (fromPrefs) return fromPrefs;
  const fromTraits = validTimezone(input.traits.timezone);
  if (fromTraits) return fromTraits;
  for (const phone of input.phones) {
    const country = parsePhoneNumberFromString(phone)?.country;
    const zone = country ? mainTimezone(country) : undefined;
    if (zone) return zone;
  }
  const region = localeCountry(
    input.locale ?? (typeof input.traits.locale === "string" ? input.traits.locale : undefined),
  );
  const fromLocale = region ? mainTimezone(region) : undefined;
  return fromLocale ?? validTimezone(input.defaultTimezone) ?? "UTC";
}

/** A destination of a customer on a channel. */
export type ChannelAddress = { channel: Channel; address: string };

/**
 * The destinations a customer's identities give, per channel: emails, phones (SMS and
 * WhatsApp), WhatsApp ids, device tokens (push), and the social ids.
 */
export function customerAddresses(
  identities: ReadonlyArray<{ kind: string; value: string }>,
): ChannelAddress[] {
  const out: ChannelAddress[] = [];
  for (const { kind, value } of identities) {
    switch (kind) {
      case "email":
        out.push({ channel: "email", address: value });
        break;
      case "phone":
        out.push({ channel: "sms", address: value }, { channel: "whatsapp", address: value });
        break;
      case "whatsapp_id":
        out.push({ channel: "whatsapp", address: value });
        break;
      case "device_token":
        out.push({ channel: "push", address: value });
        break;
      case "messenger_psid":
        out.push({ channel: "messenger", address: value });
        break;
      case "instagram_id":
        out.push({ channel: "instagram", address: value });
        break;
      case "x_id":
        out.push({ channel: "x", address: value });
        break;
    }
  }
  return out;
}

/** The channels a customer can be reached on, in `CHANNELS` order; in-app needs an app user id. */
export function reachableChannels(
  identities: ReadonlyArray<{ kind: string; value: string }>,
  order: readonly Channel[],
): Channel[] {
  const have = new Set<Channel>(customerAddresses(identities).map((a) => a.channel));
  if (identities.some((i) => i.kind === "user_id")) have.add("in_app");
  return order.filter((c) => have.has(c));
}

/** The customer's phone numbers (E.164), for country and time zone. */
export function customerPhones(identities: ReadonlyArray<{ kind: string; value: string }>): string[] {
  return identities.filter((i) => i.kind === "phone" || i.kind === "whatsapp_id").map((i) => i.value);
}
