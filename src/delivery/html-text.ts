// The plain-text part of an email, derived from its HTML when the template gives none:
// readable paragraphs, list items as "- ", links kept as "text (url)". Email HTML (MJML's
// output above all) is tables and inline styles; only the words and links matter here.

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  copy: "©",
  reg: "®",
  trade: "™",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  euro: "€",
  pound: "£",
  middot: "·",
  bull: "•",
  zwnj: "",
  zwj: "",
};

/** Decodes numeric and common named character references; unknown names stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);/gi, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "center",
  "dd",
  "div",
  "dl",
  "dt",
  "footer",
  "form",
  "header",
  "main",
  "nav",
  "ol",
  "section",
  "table",
  "tbody",
  "thead",
  "tfoot",
  "tr",
  "ul",
]);
const PARAGRAPHS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr"]);

function attribute(attrs: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(attrs);
  if (!m) return undefined;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? "");
}

/** Readable plain text from email HTML, links written as `text (url)`. */
export function htmlToText(html: string): string {
  const cleaned = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<[!?][^>]*>/g, "")
    .replace(/<(head|style|script|title|noscript)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "")
    // MJML's preview text: shown by inboxes beside the subject, not part of the message
    .replace(/<div\b[^>]*display:\s*none[^>]*>[\s\S]*?<\/div\s*>/gi, "");
  const out: string[] = [];
  const links: Array<{ href: string | undefined; start: number }> = [];
  const tokens = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>|([^<]+)|(<)/g;
  for (let m = tokens.exec(cleaned); m !== null; m = tokens.exec(cleaned)) {
    const [, closing, rawName, attrs = "", words, lone] = m;
    if (words !== undefined || lone !== undefined) {
      out.push(decodeEntities((words ?? lone ?? "").replace(/\s+/g, " ")));
      continue;
    }
    const name = (rawName ?? "").toLowerCase();
    if (name === "br") out.push("\n");
    else if (PARAGRAPHS.has(name)) out.push("\n\n");
    else if (BLOCKS.has(name)) out.push("\n");
    else if (name === "li") out.push(closing ? "" : "\n- ");
    else if (name === "td" || name === "th") out.push(" ");
    else if (name === "img" && !closing) {
      const alt = attribute(attrs, "alt");
      if (alt) out.push(alt);
    } else if (name === "a" && !closing) {
      links.push({ href: attribute(attrs, "href"), start: out.length });
    } else if (name === "a" && closing) {
      const link = links.pop();
      const href = link?.href?.trim();
      if (link && href && !href.startsWith("#")) {
        const label = out.slice(link.start).join("").replace(/\s+/g, " ").trim();
        const shown = href.replace(/^mailto:/i, "");
        if (label === "") out.push(shown);
        else if (label !== shown && label !== href) out.push(` (${shown})`);
      }
    }
  }
  return out
    .join("")
    .split("\n")
    .map((line) => line.replace(/[ \t\u00a0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
