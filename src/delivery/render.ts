import { z } from "zod";
import type { Channel } from "../consent/tables.ts";
import { AppError } from "../errors.ts";
import { htmlToText } from "./html-text.ts";
import { describeLiquidError, type LiquidMode, renderLiquid } from "./liquid.ts";
import type { RenderedContent, TemplateVariant } from "./tables.ts";

/**
 * Everything a template can read: `customer.*` (traits, identities, and the preferences the
 * message honours: `customer.preferences.language`, `.timezone`), `data.*`, `topic.*`,
 * `language`, `links.*`.
 */
export type RenderContext = {
  customer: {
    id: string;
    traits: Record<string, unknown>;
    identities: Record<string, string[]>;
    preferences?: { language: string; timezone: string };
  };
  /** The send request's data (and event data). */
  data: Record<string, unknown>;
  topic: { key: string; name: string };
  /** The language chosen for this customer. */
  language: string;
  links: { preferences: string; unsubscribe: string };
};

type Field = "subject" | "body" | "text" | "title" | "html";

/** No rendered field may grow past this: a runaway loop is cut by time, a huge output here. */
const MAX_RENDERED_CHARS = 2_000_000;

/** `fr_ca` → `fr-CA`, `zh-hant-tw` → `zh-Hant-TW`: one spelling per language, so lookups match. */
export function canonicalLanguage(tag: string): string {
  return tag
    .split(/[-_]/)
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 4 && /^[a-z]+$/i.test(part))
        return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
      if (part.length === 2 || /^\d{3}$/.test(part)) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join("-");
}

/**
 * The variant for a customer's language: the exact tag (`fr-CA`), then its base language
 * (`fr`), then the template's default. Tags compare in canonical form, so `fr_ca` finds `fr-CA`.
 */
export function chooseVariant(
  variants: Record<string, TemplateVariant>,
  defaultLanguage: string,
  customerLanguage: string | null,
): { language: string; variant: TemplateVariant } {
  const byTag = new Map(Object.entries(variants).map(([tag, v]) => [canonicalLanguage(tag), { tag, v }]));
  const candidates: string[] = [];
  if (customerLanguage) {
    const wanted = canonicalLanguage(customerLanguage.trim());
    candidates.push(wanted);
    const base = wanted.split("-")[0];
    if (base && base !== wanted) candidates.push(base);
  }
  candidates.push(canonicalLanguage(defaultLanguage));
  for (const tag of candidates) {
    const hit = byTag.get(tag);
    if (hit) return { language: hit.tag, variant: hit.v };
  }
  throw new AppError(
    "delivery.template_render_failed",
    `The template has no variant for its default language "${defaultLanguage}"; add one.`,
    { defaultLanguage, languages: Object.keys(variants) },
  );
}

function scopeOf(ctx: RenderContext): Record<string, unknown> {
  return {
    customer: ctx.customer,
    data: ctx.data,
    topic: ctx.topic,
    language: ctx.language,
    links: ctx.links,
  };
}

function renderFailed(field: Field, ctx: RenderContext, why: string, details: Record<string, unknown> = {}) {
  return new AppError(
    "delivery.template_render_failed",
    `Could not render the ${field} (${ctx.language}): ${why}.`,
    { field, language: ctx.language, ...details },
  );
}

async function renderField(
  mode: LiquidMode,
  field: Field,
  source: string,
  scope: Record<string, unknown>,
  ctx: RenderContext,
): Promise<string> {
  let out: string;
  try {
    out = await renderLiquid(mode, source, scope);
  } catch (err) {
    const problem = describeLiquidError(err);
    if (problem) {
      throw renderFailed(field, ctx, `line ${problem.line}, column ${problem.column}: ${problem.message}`, {
        line: problem.line,
        column: problem.column,
        reason: problem.message,
      });
    }
    throw renderFailed(field, ctx, err instanceof Error ? err.message : String(err));
  }
  if (out.length > MAX_RENDERED_CHARS) {
    throw renderFailed(field, ctx, `it renders to ${out.length} characters, more than ${MAX_RENDERED_CHARS}`);
  }
  return out;
}

/** True when an email body is MJML (compiled to responsive HTML) rather than plain HTML. */
export function isMjml(body: string): boolean {
  return /^\s*<mjml[\s>]/i.test(body);
}

export const MJML_OPTIONS = {
  validationLevel: "strict",
  // mj-include would read the server's files; templates are self-contained
  ignoreIncludes: true,
  keepComments: false,
} as const;

export const MjmlIssues = z.object({
  errors: z.array(
    z.object({ line: z.number().optional(), message: z.string(), tagName: z.string().optional() }),
  ),
});
export type MjmlIssue = z.infer<typeof MjmlIssues>["errors"][number];

// Broadcasts compile the same MJML for every recipient when it holds no personal data.
const mjmlCache = new Map<string, string>();
const MJML_CACHE_ENTRIES = 200;

/** Compiles MJML strictly; resolves to the HTML or to the validator's complaints. */
export async function compileMjml(source: string): Promise<{ html: string } | { issues: MjmlIssue[] }> {
  const cached = mjmlCache.get(source);
  if (cached !== undefined) return { html: cached };
  try {
    // loaded on first use: mjml takes about 0.4 s to import, which start-up should not pay
    const { default: mjml2html } = await import("mjml");
    const out = await mjml2html(source, MJML_OPTIONS);
    if (out.errors.length > 0) return { issues: MjmlIssues.parse(out).errors };
    mjmlCache.set(source, out.html);
    if (mjmlCache.size > MJML_CACHE_ENTRIES) {
      const oldest = mjmlCache.keys().next();
      if (!oldest.done) mjmlCache.delete(oldest.value);
    }
    return { html: out.html };
  } catch (err) {
    const parsed = MjmlIssues.safeParse(err);
    if (parsed.success && parsed.data.errors.length > 0) return { issues: parsed.data.errors };
    return { issues: [{ message: err instanceof Error ? err.message : String(err) }] };
  }
}

/** `line 3 (mj-text): mj-text cannot be used inside mj-section…` */
export function describeMjmlIssue(issue: MjmlIssue): string {
  const where = issue.line !== undefined ? `line ${issue.line}` : "somewhere";
  return `${where}${issue.tagName ? ` (${issue.tagName})` : ""}: ${issue.message}`;
}

async function renderEmail(
  parts: { subject: string | undefined; body: string | undefined; text: string | undefined },
  ctx: RenderContext,
): Promise<RenderedContent> {
  if (parts.subject === undefined || parts.subject.trim() === "") {
    throw renderFailed("subject", ctx, "an email needs a subject, and this one has none");
  }
  if (parts.body === undefined && parts.text === undefined) {
    throw renderFailed("body", ctx, "an email needs a body or a text, and this one has neither");
  }
  const scope = scopeOf(ctx);
  // headers are one line: a trait holding a line break must not start a new header
  const subject = (await renderField("text", "subject", parts.subject, scope, ctx))
    .replace(/\s+/g, " ")
    .trim();
  if (subject === "") throw renderFailed("subject", ctx, "the subject renders empty");
  let html: string | undefined;
  if (parts.body !== undefined) {
    html = await renderField("html", "body", parts.body, scope, ctx);
    if (isMjml(parts.body)) {
      const compiled = await compileMjml(html);
      if ("issues" in compiled) {
        const first = compiled.issues[0];
        throw renderFailed(
          "body",
          ctx,
          `the MJML does not compile: ${first ? describeMjmlIssue(first) : "?"}`,
          {
            mjmlErrors: compiled.issues,
          },
        );
      }
      html = compiled.html;
    }
  }
  const text =
    parts.text !== undefined
      ? (await renderField("text", "text", parts.text, scope, ctx)).trim()
      : htmlToText(html ?? "");
  return { subject, text, ...(html !== undefined ? { html } : {}) };
}

async function renderTextChannel(
  parts: { text: string | undefined; title: string | undefined },
  channel: Channel,
  ctx: RenderContext,
): Promise<RenderedContent> {
  if (parts.text === undefined || parts.text.trim() === "") {
    throw renderFailed("text", ctx, `a ${channel} message needs a text, and this one has none`);
  }
  const scope = scopeOf(ctx);
  const text = (await renderField("text", "text", parts.text, scope, ctx)).trim();
  if (text === "") throw renderFailed("text", ctx, "the text renders empty");
  if ((channel === "push" || channel === "in_app") && parts.title !== undefined) {
    const title = (await renderField("text", "title", parts.title, scope, ctx)).replace(/\s+/g, " ").trim();
    if (title !== "") return { text, title };
  }
  return { text };
}

/**
 * Renders one template variant for a channel. Email: the body's Liquid (outputs HTML-escaped)
 * then MJML, and a text part (the variant's, else derived from the HTML). Other channels: the
 * text, and the title for push and in-app. Throws `delivery.template_render_failed`.
 */
export async function renderVariant(
  variant: TemplateVariant,
  channel: Channel,
  ctx: RenderContext,
): Promise<RenderedContent> {
  if (channel === "email") {
    return renderEmail({ subject: variant.subject, body: variant.body, text: variant.text }, ctx);
  }
  return renderTextChannel({ text: variant.text, title: variant.title }, channel, ctx);
}

/** Renders ad-hoc content from the API as a template: Liquid in every field, MJML when the HTML is MJML. */
export async function renderContent(
  content: { subject?: string; text: string; html?: string; title?: string },
  channel: Channel,
  ctx: RenderContext,
): Promise<RenderedContent> {
  if (channel === "email") {
    return renderEmail({ subject: content.subject, body: content.html, text: content.text }, ctx);
  }
  return renderTextChannel({ text: content.text, title: content.title }, channel, ctx);
}
