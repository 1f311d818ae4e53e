// How a carrier splits a text message: GSM-7 when every character is in the GSM 03.38 alphabet
// (160 septets alone, 153 per part once split), UCS-2 otherwise (70 code units, 67 per part).
// A character of the extension table takes two septets, an astral character two code units,
// and neither is ever cut between two parts.

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export type SmsEncoding = "GSM-7" | "UCS-2";

export type SmsCount = {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  units: number;
  /** Parts the message is sent as (0 for an empty text). */
  segments: number;
  /** Units one part holds at this length: 160/70 alone, 153/67 once split. */
  perSegment: number;
  /** Units still free in the last part before another part is needed. */
  remaining: number;
};

/** Whether every character of `text` is in the GSM-7 alphabet (basic or extension table). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return false;
  return true;
}

/** Counts the parts an SMS of `text` is sent as, and what is left in the last one. */
export function smsSegments(text: string): SmsCount {
  const gsm = isGsm7(text);
  const sizes = Array.from(text, (ch) => (gsm ? (EXTENDED.has(ch) ? 2 : 1) : ch.length));
  const units = sizes.reduce((a, b) => a + b, 0);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  const encoding: SmsEncoding = gsm ? "GSM-7" : "UCS-2";
  if (units === 0) return { encoding, units, segments: 0, perSegment: single, remaining: single };
  if (units <= single) return { encoding, units, segments: 1, perSegment: single, remaining: single - units };
  // packed part by part: a two-unit character that does not fit starts the next part
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > multi) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return { encoding, units, segments, perSegment: multi, remaining: multi - used };
}

/** Characters as X counts them for the 280 limit (code points; links and wide scripts aside). */
export function xLength(text: string): number {
  return Array.from(text).length;
}

export const X_LIMIT = 280;
