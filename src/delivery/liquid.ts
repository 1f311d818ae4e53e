import {
  type Context,
  type Emitter,
  type FS,
  Liquid,
  LiquidError,
  type Template as LiquidTemplate,
  Tag,
  type TagToken,
  type TopLevelToken,
} from "liquidjs";

// The sandboxed Liquid engine. Brands write templates, so a template must not read files,
// reach prototypes, or spin forever: no file system, own properties only, and limits on
// parse size, render time and allocations. Two engines share one configuration: HTML fields
// escape every output (`| raw` opts out), text fields (subject, SMS, push) do not.

/** Longest template source accepted, in characters (the largest field, an email body, is 500k). */
export const PARSE_LIMIT = 1_000_000;
/** Wall-clock budget of one field's render, in ms: a loop that runs away stops here. */
export const RENDER_LIMIT_MS = 1_000;
/** Allocation budget of one render (liquidjs counts array and string building). */
export const MEMORY_LIMIT = 50_000_000;

export type LiquidMode = "html" | "text";

/** Where and why Liquid refused a template. */
export type LiquidProblem = { line: number; column: number; message: string };

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&#34;",
  "'": "&#39;",
};

/** Escapes text for HTML content and attribute values, as liquidjs' `escape` filter does. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const refusingFs: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  readFileSync: (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
};

/** Throws while parsing, so a template using it is refused when saved, not when sent. */
class RefusedTag extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
    super(token, remain, liquid);
    throw new Error(
      `{% ${token.name} %} is not available: a template cannot load other templates or files; put the content in this template`,
    );
  }
  render(): void {}
}

/** `{% unsubscribe_url %}` and `{% preferences_url %}`: the customer's signed links from the render context. */
function linkTag(link: "unsubscribe" | "preferences", html: boolean) {
  return class LinkTag extends Tag {
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
      super(token, remain, liquid);
      if (token.args.trim() !== "") throw new Error(`{% ${token.name} %} takes no arguments`);
    }
    render(ctx: Context, emitter: Emitter): void {
      const url = ctx.getSync(["links", link]);
      const text = typeof url === "string" ? url : "";
      emitter.write(html ? escapeHtml(text) : text);
    }
  };
}

function createEngine(mode: LiquidMode): Liquid {
  const engine = new Liquid({
    fs: refusingFs,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    ownPropertyOnly: true,
    // an unknown filter is a typo the author should hear about when saving, not a silent no-op
    strictFilters: true,
    strictVariables: false,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
    ...(mode === "html" ? { outputEscape: "escape" as const } : {}),
  });
  for (const name of ["include", "render", "layout"]) engine.registerTag(name, RefusedTag);
  engine.registerTag("unsubscribe_url", linkTag("unsubscribe", mode === "html"));
  engine.registerTag("preferences_url", linkTag("preferences", mode === "html"));
  return engine;
}

const engines: Record<LiquidMode, Liquid> = { html: createEngine("html"), text: createEngine("text") };

// Parsed templates are kept per source text: a broadcast renders one template thousands of
// times, and parsing dominates a simple render. Bounded by total source size, oldest out.
const CACHE_MAX_CHARS = 20_000_000;
const CACHE_MAX_ENTRIES = 2_000;
type CacheState = { map: Map<string, LiquidTemplate[]>; chars: number };
const caches: Record<LiquidMode, CacheState> = {
  html: { map: new Map(), chars: 0 },
  text: { map: new Map(), chars: 0 },
};

/** The parsed template for a source, from the cache when seen before; throws liquidjs' errors. */
export function parseLiquid(mode: LiquidMode, source: string): LiquidTemplate[] {
  const cache = caches[mode];
  const hit = cache.map.get(source);
  if (hit) {
    // re-inserting keeps the map in least-recently-used order
    cache.map.delete(source);
    cache.map.set(source, hit);
    return hit;
  }
  const parsed = engines[mode].parse(source);
  cache.map.set(source, parsed);
  cache.chars += source.length;
  while (cache.chars > CACHE_MAX_CHARS || cache.map.size > CACHE_MAX_ENTRIES) {
    const oldest = cache.map.keys().next();
    if (oldest.done) break;
    cache.map.delete(oldest.value);
    cache.chars -= oldest.value.length;
  }
  return parsed;
}

/** Renders a source (parsed once, then cached) against a scope, within the sandbox's limits. */
export async function renderLiquid(mode: LiquidMode, source: string, scope: object): Promise<string> {
  // plain text needs no engine, and most subjects and many SMS have no markup at all
  if (!source.includes("{")) return source;
  const out: unknown = await engines[mode].render(parseLiquid(mode, source), scope);
  return typeof out === "string" ? out : String(out);
}

/** Line, column and reason of a liquidjs error; undefined for anything else. */
export function describeLiquidError(err: unknown): LiquidProblem | undefined {
  if (!LiquidError.is(err)) return undefined;
  const [line = 1, column = 1] = err.token?.getPosition() ?? [];
  const reason = err.originalError?.message ?? err.message;
  // liquidjs appends ", line:N, col:M" to its messages; we report the position separately
  const message = reason.replace(/, line:\d+, col:\d+$/, "");
  return { line, column, message };
}
