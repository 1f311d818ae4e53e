/**
 * An allow-list HTML sanitiser for inbound email. The input is tokenised and the output is
 * rebuilt from scratch: only allowed elements and attributes are written, every attribute
 * value is quoted and escaped, every text run escaped. Nothing of the input passes through
 * verbatim, so syntax a browser would read differently from this tokeniser cannot survive.
 * The function boundary (`sanitizeEmailHtml(html) → html`) lets a package replace it.
 */

const ALLOWED = new Set([
  "a",
  "abbr",
  "address",
  "article",
  "b",
  "big",
  "blockquote",
  "br",
  "caption",
  "center",
  "cite",
  "code",
  "col",
  "colgroup",
  "dd",
  "del",
  "dfn",
  "div",
  "dl",
  "dt",
  "em",
  "figcaption",
  "figure",
  "font",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "i",
  "img",
  "ins",
  "kbd",
  "li",
  "main",
  "mark",
  "ol",
  "p",
  "pre",
  "q",
  "s",
  "samp",
  "section",
  "small",
  "span",
  "strike",
  "strong",
  "sub",
  "sup",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "time",
  "tr",
  "tt",
  "u",
  "ul",
  "var",
  "wbr",
]);

const VOID = new Set(["br", "col", "hr", "img", "wbr"]);

// dropped with everything inside them: active content, documents in documents, forms' controls
const DROP_WITH_CONTENT = new Set([
  "script",
  "style",
  "iframe",
  "frameset",
  "object",
  "applet",
  "noscript",
  "noembed",
  "noframes",
  "template",
  "svg",
  "math",
  "textarea",
  "select",
  "option",
  "button",
  "title",
  "head",
  "xmp",
  "plaintext",
  "canvas",
  "audio",
  "video",
  "portal",
]);

// their content is raw text to a browser: skip to the closing tag without reading tags inside
const RAW_TEXT = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "noscript",
  "plaintext",
]);

const GLOBAL_ATTRS = new Set(["title", "dir", "lang", "align", "valign", "style"]);
const ELEMENT_ATTRS: Record<string, Set<string>> = {
  a: new Set(["href"]),
  img: new Set(["src", "alt", "width", "height", "border", "hspace", "vspace"]),
  font: new Set(["color", "face", "size"]),
  table: new Set(["width", "height", "border", "cellpadding", "cellspacing", "bgcolor", "summary"]),
  td: new Set(["width", "height", "colspan", "rowspan", "bgcolor", "nowrap"]),
  th: new Set(["width", "height", "colspan", "rowspan", "bgcolor", "nowrap", "scope"]),
  tr: new Set(["bgcolor", "height"]),
  col: new Set(["span", "width"]),
  colgroup: new Set(["span", "width"]),
  ol: new Set(["start", "type", "reversed"]),
  ul: new Set(["type"]),
  li: new Set(["value"]),
  blockquote: new Set(["cite", "type"]),
  q: new Set(["cite"]),
  del: new Set(["datetime"]),
  ins: new Set(["datetime"]),
  time: new Set(["datetime"]),
  div: new Set(["bgcolor"]),
  hr: new Set(["width", "size", "noshade"]),
};
// URL-valued attributes other than href/src are not worth the risk of a scheme check
const URL_ATTRS_DROPPED = new Set(["cite"]);

const LINK_SCHEMES = /^(?:https?:|mailto:|tel:)/i;
const IMAGE_SCHEMES = /^(?:https?:|cid:)/i;
// raster images only: an SVG in a data: URL can carry script
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]*$/i;
const MAX_ATTR_LENGTH = 8_192;
const MAX_DATA_URL_LENGTH = 2 * 1024 * 1024;

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  colon: ":",
  tab: "\t",
  newline: "\n",
  sol: "/",
  lpar: "(",
  rpar: ")",
  period: ".",
  comma: ",",
  semi: ";",
  equals: "=",
  bsol: "\\",
};

/** Decodes character references well enough to see the scheme and words an attacker hides in them. */
function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return "\ufffd";
      return String.fromCodePoint(code);
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

function escapeText(text: string): string {
  // a well-formed character reference is kept (the browser shows it as its character); a bare & is escaped
  return text
    .replace(/&(?!(?:#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});)/gi, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// control characters and whitespace a browser ignores inside a URL's scheme: matching them is the point
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must be stripped
const URL_NOISE = /[\u0000-\u0020\u007f-\u009f\u00ad\u200b-\u200f\u2028\u2029\ufeff]+/g;

/** How the caller serves an email's own parts: a `cid:` reference's Content-ID → its URL, if kept. */
export type CidResolver = (contentId: string) => string | undefined;

/** The Content-ID a `cid:` URL names (RFC 2392: URL-encoded, brackets optional). */
export function contentIdOf(cidUrl: string): string {
  const raw = cidUrl.replace(/^cid:/i, "").trim();
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // a stray % is kept as written
  }
  return decoded.replace(/^<|>$/g, "");
}

function cleanUrl(raw: string, kind: "href" | "src", cid: CidResolver | undefined): string | undefined {
  const decoded = decodeEntities(raw).trim();
  const probe = decoded.replace(URL_NOISE, "");
  if (kind === "href") return LINK_SCHEMES.test(probe) ? decoded : undefined;
  // an inline part is shown from where Rapport serves it; one the email does not carry is dropped
  if (cid && /^cid:/i.test(probe)) return cid(contentIdOf(probe));
  if (IMAGE_SCHEMES.test(probe)) return decoded;
  if (decoded.length <= MAX_DATA_URL_LENGTH && DATA_IMAGE.test(probe)) return probe;
  return undefined;
}

// CSS that runs code or fetches from elsewhere: IE expressions, bindings, imports, escapes hiding them
const BAD_CSS = /expression|javascript|vbscript|behavio(?:u)?r|-moz-binding|@import|url\s*\(|\\|<|>|&|\/\*/i;

function cleanStyle(raw: string): string | undefined {
  const decoded = decodeEntities(raw);
  const kept: string[] = [];
  for (const declaration of decoded.split(";")) {
    const colon = declaration.indexOf(":");
    if (colon < 1) continue;
    const property = declaration.slice(0, colon).trim().toLowerCase();
    const value = declaration.slice(colon + 1).trim();
    if (!/^-?[a-z][a-z-]*$/.test(property) || value.length === 0) continue;
    if (BAD_CSS.test(value) || BAD_CSS.test(property) || property === "position") continue;
    kept.push(`${property}: ${value}`);
  }
  return kept.length > 0 ? kept.join("; ") : undefined;
}

type Attr = { name: string; value: string };

function cleanAttrs(tag: string, attrs: Attr[], cid: CidResolver | undefined): string {
  const allowed = ELEMENT_ATTRS[tag];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const { name, value } of attrs) {
    if (seen.has(name) || value.length > MAX_DATA_URL_LENGTH) continue;
    seen.add(name);
    if (!GLOBAL_ATTRS.has(name) && !allowed?.has(name)) continue;
    if (URL_ATTRS_DROPPED.has(name)) continue;
    let clean: string | undefined;
    if (name === "href") clean = cleanUrl(value, "href", cid);
    else if (name === "src") clean = cleanUrl(value, "src", cid);
    else if (name === "style") clean = cleanStyle(value);
    else if (value.length <= MAX_ATTR_LENGTH) clean = decodeEntities(value);
    if (clean !== undefined) out.push(`${name}="${escapeAttr(clean)}"`);
  }
  if (tag === "a") out.push('rel="noopener noreferrer nofollow"', 'target="_blank"');
  return out.length > 0 ? ` ${out.join(" ")}` : "";
}

const WS = /[\t\n\f\r ]/;

/** Reads a tag's attributes from `i` (just after its name); answers them and where the tag ends. */
function readAttrs(html: string, start: number): { attrs: Attr[]; end: number; selfClosing: boolean } {
  const attrs: Attr[] = [];
  let i = start;
  const n = html.length;
  let selfClosing = false;
  while (i < n) {
    selfClosing = false;
    while (i < n && (WS.test(html.charAt(i)) || html[i] === "/")) {
      selfClosing = html[i] === "/";
      i++;
    }
    if (i >= n || html[i] === ">") break;
    let nameEnd = i;
    // the first character may be "=" as browsers read it; then up to whitespace, / , > or =
    nameEnd++;
    while (nameEnd < n && !/[\t\n\f\r />=]/.test(html.charAt(nameEnd))) nameEnd++;
    const name = html.slice(i, nameEnd).toLowerCase();
    i = nameEnd;
    while (i < n && WS.test(html.charAt(i))) i++;
    let value = "";
    if (html[i] === "=") {
      i++;
      while (i < n && WS.test(html.charAt(i))) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const stop = close < 0 ? n : close;
        value = html.slice(i + 1, stop);
        i = close < 0 ? n : close + 1;
      } else {
        const from = i;
        while (i < n && !/[\t\n\f\r >]/.test(html.charAt(i))) i++;
        value = html.slice(from, i);
      }
    }
    attrs.push({ name, value });
  }
  return { attrs, end: i < n ? i + 1 : n, selfClosing };
}

/** Where the raw text of `tag` opened before `from` ends (after its closing tag), or the end. */
function skipRawText(html: string, lower: string, tag: string, from: number): number {
  const close = lower.indexOf(`</${tag}`, from);
  if (close < 0) return html.length;
  const gt = html.indexOf(">", close);
  return gt < 0 ? html.length : gt + 1;
}

/**
 * Sanitised HTML of an email, safe to show beside the app's own pages (still best shown in a
 * sandboxed iframe). With `cid`, `src="cid:…"` references become the URLs it answers, so
 * inline images show; without it they are kept as written.
 */
export function sanitizeEmailHtml(html: string, opts: { cid?: CidResolver } = {}): string {
  const lower = html.toLowerCase();
  const out: string[] = [];
  const open: string[] = [];
  // >0 while inside an element dropped with its content (nested ones counted)
  const dropping: string[] = [];
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i && dropping.length === 0) out.push(escapeText(html.slice(i, textEnd)));
    if (lt < 0) break;
    i = lt;
    if (html.startsWith("<!--", i)) {
      const close = html.indexOf("-->", i + 4);
      i = close < 0 ? n : close + 3;
      continue;
    }
    const next = html.charAt(i + 1);
    if (next === "!" || next === "?") {
      const gt = html.indexOf(">", i);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    const closing = next === "/";
    const nameStart = closing ? i + 2 : i + 1;
    const nameMatch = /^[a-z][^\t\n\f\r />]*/i.exec(html.slice(nameStart, nameStart + 64));
    if (!nameMatch) {
      if (closing) {
        // "</" followed by a non-letter is a bogus comment to a browser: skip to ">"
        const gt = html.indexOf(">", i);
        i = gt < 0 ? n : gt + 1;
      } else {
        if (dropping.length === 0) out.push("&lt;");
        i += 1;
      }
      continue;
    }
    const tag = nameMatch[0].toLowerCase();
    const { attrs, end, selfClosing } = readAttrs(html, nameStart + nameMatch[0].length);
    i = end;
    if (closing) {
      if (dropping.length > 0) {
        const at = dropping.lastIndexOf(tag);
        if (at >= 0) dropping.length = at;
        continue;
      }
      const at = open.lastIndexOf(tag);
      if (at >= 0) {
        for (let k = open.length - 1; k >= at; k--) out.push(`</${open[k]}>`);
        open.length = at;
      }
      continue;
    }
    if (RAW_TEXT.has(tag)) {
      i = skipRawText(html, lower, tag, i);
      continue;
    }
    if (DROP_WITH_CONTENT.has(tag)) {
      // <svg/> and <math/> close themselves (foreign content); anything else waits for its end tag
      if (!(selfClosing && (tag === "svg" || tag === "math"))) dropping.push(tag);
      continue;
    }
    if (dropping.length > 0 || !ALLOWED.has(tag)) continue;
    out.push(`<${tag}${cleanAttrs(tag, attrs, opts.cid)}>`);
    if (!VOID.has(tag)) open.push(tag);
  }
  for (let k = open.length - 1; k >= 0; k--) out.push(`</${open[k]}>`);
  return out.join("");
}
