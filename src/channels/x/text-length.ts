/** The most a tweet may weigh, in X's counting (a Latin character weighs 1, most CJK and emoji 2). */
export const MAX_TWEET_LENGTH = 280;

/** X counts every link as this many characters, whatever its length (t.co wraps it). */
const LINK_LENGTH = 23;

// X's light ranges (weight 1): Latin, Greek, Cyrillic, Hebrew, Arabic… and some punctuation
const LIGHT: Array<[number, number]> = [
  [0x0000, 0x10ff],
  [0x2000, 0x200d],
  [0x2010, 0x201f],
  [0x2032, 0x2037],
];

const LINK = /\bhttps?:\/\/[^\s<>"]+/giu;
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

function weightOf(codePoint: number): number {
  return LIGHT.some(([from, to]) => codePoint >= from && codePoint <= to) ? 1 : 2;
}

/**
 * A tweet's length as X counts it (twitter-text's weighted length, approximated): text
 * normalised to NFC, each http(s) link 23, each emoji (a whole sequence, skin tone and
 * joiners included) 2, other characters 1 in the light ranges and 2 elsewhere.
 */
export function weightedTweetLength(text: string): number {
  const normalised = text.normalize("NFC");
  let length = 0;
  let rest = "";
  let last = 0;
  for (const m of normalised.matchAll(LINK)) {
    rest += normalised.slice(last, m.index);
    length += LINK_LENGTH;
    last = m.index + m[0].length;
  }
  rest += normalised.slice(last);
  for (const { segment } of segmenter.segment(rest)) {
    if (EMOJI.test(segment)) {
      length += 2;
      continue;
    }
    for (const ch of segment) length += weightOf(ch.codePointAt(0) ?? 0);
  }
  return length;
}
