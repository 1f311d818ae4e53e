import { and, asc, eq, gt } from "drizzle-orm";
import type { z } from "zod";
import type { Channel } from "../consent/tables.ts";
import { listTopics } from "../consent/topics.ts";
import {
  PreviewRequest,
  type PreviewResult,
  type Template,
  TemplateInput,
  TemplatePatch,
} from "../contracts/templates.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { type AuditActor, recordAudit } from "../platform/audit.ts";
import { canonicalLanguage, chooseVariant, renderVariant } from "./render.ts";
import { type TemplateVariant, templates } from "./tables.ts";
import { checkVariant } from "./template-check.ts";

export type { Template };

/** Who changes a template, for the audit log written in the same transaction. */
export type TemplateAuthor = { actor: AuditActor; ip?: string | null };

type Row = typeof templates.$inferSelect;
type Fields = {
  name: string;
  channel: Channel | null;
  topicId: string | null;
  defaultLanguage: string;
  variants: Record<string, TemplateVariant>;
};

const MAX_VARIANTS = 50;

function present(row: Row): Template {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    channel: row.channel,
    topicId: row.topicId,
    defaultLanguage: row.defaultLanguage,
    variants: row.variants,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function notFound(key: string): AppError {
  return new AppError("delivery.template_not_found", `No template has the key "${key}" in this workspace.`, {
    key,
  });
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join(".") || "template";
  throw new AppError("delivery.template_invalid", `${path}: ${issue?.message ?? "is invalid"}.`, {
    issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  });
}

/** The workspace's topic with this id (archived ones too), through consent's own listing. */
async function findTopic(
  db: Db,
  workspaceId: string,
  topicId: string,
): Promise<{ key: string; names: Record<string, string>; archived: boolean } | undefined> {
  // a workspace has a handful of topics, and consent looks them up by key only
  const all = await listTopics(db, workspaceId, { includeArchived: true });
  const topic = all.find((t) => t.id === topicId);
  return topic && { key: topic.key, names: topic.names, archived: topic.archivedAt !== null };
}

/** Canonical language tags, the default's variant present, every variant renderable, the topic ours. */
async function validated(db: Db, workspaceId: string, fields: Fields): Promise<Fields> {
  const defaultLanguage = canonicalLanguage(fields.defaultLanguage);
  const variants: Record<string, TemplateVariant> = {};
  const entries = Object.entries(fields.variants);
  if (entries.length === 0) {
    throw new AppError("delivery.template_invalid", "A template needs at least one variant.", {
      field: "variants",
    });
  }
  if (entries.length > MAX_VARIANTS) {
    throw new AppError("delivery.template_invalid", `A template has at most ${MAX_VARIANTS} variants.`, {
      field: "variants",
    });
  }
  for (const [tag, variant] of entries) {
    const language = canonicalLanguage(tag);
    if (variants[language]) {
      throw new AppError(
        "delivery.template_invalid",
        `Two variants are the same language "${language}"; keep one.`,
        { field: "variants", language },
      );
    }
    await checkVariant(variant, fields.channel, language);
    variants[language] = variant;
  }
  if (!variants[defaultLanguage]) {
    throw new AppError(
      "delivery.template_invalid",
      `The default language "${defaultLanguage}" has no variant; add one or choose another default (variants: ${Object.keys(variants).join(", ")}).`,
      { field: "defaultLanguage", defaultLanguage, languages: Object.keys(variants) },
    );
  }
  if (fields.topicId !== null) {
    const topic = await findTopic(db, workspaceId, fields.topicId);
    if (!topic || topic.archived) {
      throw new AppError(
        "delivery.template_invalid",
        `topicId ${fields.topicId} is not ${topic ? "an active" : "a"} topic of this workspace.`,
        { field: "topicId", topicId: fields.topicId },
      );
    }
  }
  return { ...fields, defaultLanguage, variants };
}

/**
 * Saves a new template after checking every variant parses (and its MJML compiles), so a
 * broken template is refused here rather than failing deliveries later.
 */
export async function createTemplate(
  db: Db,
  workspaceId: string,
  input: TemplateInput,
  by?: TemplateAuthor,
): Promise<Template> {
  const parsed = parseInput(TemplateInput, input);
  const fields = await validated(db, workspaceId, parsed);
  const now = new Date();
  const created = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(templates)
      .values({ workspaceId, id: uuidv7(), key: parsed.key, ...fields, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      throw new AppError(
        "delivery.template_already_exists",
        `A template with the key "${parsed.key}" exists.`,
        {
          key: parsed.key,
        },
      );
    }
    if (by) {
      await recordAudit(tx, {
        workspaceId,
        actor: by.actor,
        action: "template.created",
        target: { kind: "template", id: row.id },
        details: { key: row.key },
        ip: by.ip,
      });
    }
    return row;
  });
  return present(created);
}

/** The template with this key; `delivery.template_not_found` (naming the key) otherwise. */
export async function getTemplateByKey(db: Db, workspaceId: string, key: string): Promise<Template> {
  const [row] = await db
    .select()
    .from(templates)
    .where(and(eq(templates.workspaceId, workspaceId), eq(templates.key, key)));
  if (!row) throw notFound(key);
  return present(row);
}

/**
 * Changes a template. Given fields replace the stored ones (`variants` replaces them all);
 * the result is checked as a whole, as on creation. The key never changes: sends name it.
 */
export async function updateTemplate(
  db: Db,
  workspaceId: string,
  key: string,
  patch: TemplatePatch,
  by?: TemplateAuthor,
): Promise<Template> {
  const changes = parseInput(TemplatePatch, patch);
  const current = await getTemplateByKey(db, workspaceId, key);
  const fields = await validated(db, workspaceId, {
    name: changes.name ?? current.name,
    channel: changes.channel === undefined ? current.channel : changes.channel,
    topicId: changes.topicId === undefined ? current.topicId : changes.topicId,
    defaultLanguage: changes.defaultLanguage ?? current.defaultLanguage,
    variants: changes.variants ?? current.variants,
  });
  const updated = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(templates)
      .set({ ...fields, updatedAt: new Date() })
      .where(and(eq(templates.workspaceId, workspaceId), eq(templates.id, current.id)))
      .returning();
    if (!row) throw notFound(key);
    if (by) {
      await recordAudit(tx, {
        workspaceId,
        actor: by.actor,
        action: "template.updated",
        target: { kind: "template", id: row.id },
        details: { key, changed: Object.keys(changes) },
        ip: by.ip,
      });
    }
    return row;
  });
  return present(updated);
}

/** A page of the workspace's templates in key order; pass `nextCursor` back as `cursor`. */
export async function listTemplates(
  db: Db,
  workspaceId: string,
  opts: { channel?: Channel | undefined; limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<{ data: Template[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const found = await db
    .select()
    .from(templates)
    .where(
      and(
        eq(templates.workspaceId, workspaceId),
        opts.channel ? eq(templates.channel, opts.channel) : undefined,
        opts.cursor ? gt(templates.key, opts.cursor) : undefined,
      ),
    )
    .orderBy(asc(templates.key))
    .limit(limit + 1);
  const page = found.slice(0, limit).map(present);
  return { data: page, nextCursor: found.length > limit ? (page[page.length - 1]?.key ?? null) : null };
}

/** Deletes a template. Deliveries already written keep their rendered content. */
export async function deleteTemplate(
  db: Db,
  workspaceId: string,
  key: string,
  by?: TemplateAuthor,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .delete(templates)
      .where(and(eq(templates.workspaceId, workspaceId), eq(templates.key, key)))
      .returning({ id: templates.id });
    if (!row) throw notFound(key);
    if (by) {
      await recordAudit(tx, {
        workspaceId,
        actor: by.actor,
        action: "template.deleted",
        target: { kind: "template", id: row.id },
        details: { key },
        ip: by.ip,
      });
    }
  });
}

/** Placeholders: a preview never carries a real customer's signed links. */
export const PREVIEW_LINKS = {
  preferences: "https://preview.invalid/preferences",
  unsubscribe: "https://preview.invalid/unsubscribe",
};
const PREVIEW_CUSTOMER_ID = "00000000-0000-0000-0000-000000000000";

function topicName(names: Record<string, string>, language: string): string {
  const base = language.split("-")[0] ?? language;
  return names[language] ?? names[base] ?? names.en ?? Object.values(names)[0] ?? "";
}

/**
 * Renders a template for the editor with sample traits and data, exactly as a send would
 * (variant choice, Liquid, MJML), with placeholder links.
 */
export async function previewTemplate(
  db: Db,
  workspaceId: string,
  key: string,
  request: PreviewRequest,
): Promise<PreviewResult> {
  const input = parseInput(PreviewRequest, request);
  const template = await getTemplateByKey(db, workspaceId, key);
  const channel = template.channel ?? input.channel ?? "sms";
  const { language, variant } = chooseVariant(
    template.variants,
    template.defaultLanguage,
    input.language ?? null,
  );
  const topic = template.topicId ? await findTopic(db, workspaceId, template.topicId) : undefined;
  const content = await renderVariant(variant, channel, {
    customer: {
      id: PREVIEW_CUSTOMER_ID,
      traits: input.customer?.traits ?? {},
      identities: input.customer?.identities ?? {},
    },
    data: input.data,
    topic: topic ? { key: topic.key, name: topicName(topic.names, language) } : { key: "", name: "" },
    language,
    links: PREVIEW_LINKS,
  });
  return {
    language,
    channel,
    content: {
      text: content.text,
      ...(content.subject !== undefined ? { subject: content.subject } : {}),
      ...(content.html !== undefined ? { html: content.html } : {}),
      ...(content.title !== undefined ? { title: content.title } : {}),
    },
  };
}
