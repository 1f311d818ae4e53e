import type { Channel } from "../consent/tables.ts";
import { AppError } from "../errors.ts";
import { describeLiquidError, type LiquidMode, parseLiquid } from "./liquid.ts";
import { compileMjml, describeMjmlIssue, isMjml, type MjmlIssue } from "./render.ts";
import type { TemplateVariant } from "./tables.ts";

// What a template must satisfy to be saved: every Liquid field parses, the fields its channel
// needs are there, and an MJML email body compiles. Checked at save time so that a mistake is
// the author's error in the editor, not a failed delivery at 3 a.m.

type VariantField = keyof TemplateVariant;

const FIELD_MODES: Record<VariantField, LiquidMode> = {
  subject: "text",
  body: "html",
  text: "text",
  title: "text",
};

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError("delivery.template_invalid", message, details);
}

/**
 * The MJML with every Liquid tag and output blanked to spaces (newlines kept), so MJML's line
 * numbers are the author's. Branches of an `if` are all kept; a loop's body is kept once.
 */
export function maskLiquid(source: string): string {
  return source.replace(/\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, " "));
}

/** Issues MJML raises about the masked source that Liquid, filled in at send time, would settle. */
function settledBySend(issue: MjmlIssue, sourceLines: string[]): boolean {
  if (issue.line === undefined || !/^Attribute .* has invalid value/.test(issue.message)) return false;
  // an attribute built with Liquid (`width="{{ data.w }}px"`) is only checkable once rendered
  return sourceLines[issue.line - 1]?.includes("{{") ?? false;
}

async function checkMjml(body: string, language: string): Promise<void> {
  const include = /<mj-include\b/i.exec(body);
  if (include) {
    const line = body.slice(0, include.index).split("\n").length;
    throw invalid(
      `body (${language}), line ${line}: <mj-include> is not available; a template cannot load files, so put the content in the template.`,
      { field: "body", language, line },
    );
  }
  const compiled = await compileMjml(maskLiquid(body));
  if (!("issues" in compiled)) return;
  const lines = body.split("\n");
  const issues = compiled.issues.filter((issue) => !settledBySend(issue, lines));
  const first = issues[0];
  if (!first) return;
  throw invalid(`body (${language}): the MJML does not compile: ${describeMjmlIssue(first)}.`, {
    field: "body",
    language,
    line: first.line,
    mjmlErrors: issues,
  });
}

function checkLiquid(field: VariantField, source: string, language: string): void {
  try {
    parseLiquid(FIELD_MODES[field], source);
  } catch (err) {
    const problem = describeLiquidError(err);
    if (!problem) throw err;
    throw invalid(
      `${field} (${language}), line ${problem.line}, column ${problem.column}: ${problem.message}.`,
      { field, language, line: problem.line, column: problem.column, reason: problem.message },
    );
  }
}

function present(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== "";
}

/**
 * Refuses a variant that could never render: a Liquid syntax error (with field, language,
 * line and reason), a field its channel needs missing, or MJML that does not compile.
 */
export async function checkVariant(
  variant: TemplateVariant,
  channel: Channel | null,
  language: string,
): Promise<void> {
  const fields: VariantField[] = ["subject", "body", "text", "title"];
  for (const field of fields) {
    const source = variant[field];
    if (source !== undefined) checkLiquid(field, source, language);
  }
  if (channel === "email") {
    if (!present(variant.subject)) {
      throw invalid(`The ${language} variant needs a subject: every email has one.`, {
        field: "subject",
        language,
      });
    }
    if (!present(variant.body) && !present(variant.text)) {
      throw invalid(`The ${language} variant needs a body (MJML or HTML) or a text.`, {
        field: "body",
        language,
      });
    }
  } else if (!present(variant.text)) {
    const what = channel ? `a ${channel} message` : "a template for any channel";
    throw invalid(`The ${language} variant needs a text: ${what} is sent as text.`, {
      field: "text",
      language,
    });
  }
  // checked whatever the channel: a template for any channel can still be previewed as email
  if (variant.body !== undefined && isMjml(variant.body)) await checkMjml(variant.body, language);
}
