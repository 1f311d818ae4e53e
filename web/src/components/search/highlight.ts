/** A piece of text and whether it is part of the match. */
export type Segment = { text: string; match: boolean };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Splits `text` around what the agent searched for, any case: the whole query where it
 * appears, else each of its words (of two letters or more). Plain text in, plain text out:
 * the caller wraps matches in <mark>, so nothing is ever read as HTML.
 */
export function splitMatches(text: string, query: string): Segment[] {
  const q = query.trim();
  if (q === "") return [{ text, match: false }];
  const whole = text.toLowerCase().includes(q.toLowerCase());
  const terms = whole
    ? [q]
    : [...new Set(q.split(/\s+/).filter((w) => w.replace(/^[@#]/, "").length >= 2))].map((w) =>
        w.replace(/^[@#]/, ""),
      );
  if (terms.length === 0) return [{ text, match: false }];
  // longest first, so a longer term wins where two start at the same place
  const pattern = new RegExp(
    `(${terms
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join("|")})`,
    "gi",
  );
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at), match: false });
    out.push({ text: m[0], match: true });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), match: false });
  return out;
}
