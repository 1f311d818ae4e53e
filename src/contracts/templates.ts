import { z } from "zod";
import { CHANNELS } from "../consent/tables.ts";

// Message templates as the REST API and the editor see them. Every field of a variant is
// Liquid; the server parses it (and compiles MJML) when the template is saved.

export const TEMPLATE_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const TemplateKey = z
  .string()
  .regex(
    TEMPLATE_KEY_PATTERN,
    "must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit (e.g. order-shipped)",
  );

// BCP 47 in practice: a language, then optional script/region subtags; `fr_CA` is accepted
// because customer locales often arrive in POSIX form.
export const LANGUAGE_TAG_PATTERN = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/;

export const LanguageTag = z
  .string()
  .max(35)
  .regex(LANGUAGE_TAG_PATTERN, "must be a language tag such as en, fr or fr-CA");

export const TemplateVariant = z
  .object({
    subject: z.string().max(998).optional().describe("Email subject (Liquid)."),
    body: z
      .string()
      .max(500_000)
      .optional()
      .describe("Email body: MJML (starting with `<mjml>`) or plain HTML, Liquid inside."),
    text: z
      .string()
      .max(100_000)
      .optional()
      .describe("SMS, push or in-app text; the email's plain-text part (derived from the body when absent)."),
    title: z.string().max(500).optional().describe("Push and in-app title."),
  })
  .strict();
export type TemplateVariant = z.infer<typeof TemplateVariant>;

// keys are checked here rather than by a key schema, whose failure zod reports only as
// "Invalid key in record"
const Variants = z
  .record(z.string(), TemplateVariant)
  .superRefine((variants, ctx) => {
    for (const tag of Object.keys(variants)) {
      if (tag.length > 35 || !LANGUAGE_TAG_PATTERN.test(tag)) {
        ctx.addIssue({
          code: "custom",
          path: [tag],
          message: `"${tag}" is not a language tag; use tags such as en, fr or fr-CA`,
        });
      }
    }
  })
  .describe("One variant per language, keyed by language tag (`en`, `fr`, `fr-CA`).");

export const TemplateInput = z
  .object({
    key: TemplateKey,
    name: z.string().trim().min(1, "is required").max(200),
    channel: z.enum(CHANNELS).nullable().default(null).describe("NULL fits any text-only channel."),
    topicId: z.uuid().nullable().default(null).describe("The topic used when a send names none."),
    defaultLanguage: LanguageTag.default("en"),
    variants: Variants,
  })
  .strict();
export type TemplateInput = z.input<typeof TemplateInput>;

export const TemplatePatch = z
  .object({
    name: z.string().trim().min(1, "is required").max(200).optional(),
    channel: z.enum(CHANNELS).nullable().optional(),
    topicId: z.uuid().nullable().optional(),
    defaultLanguage: LanguageTag.optional(),
    variants: Variants.optional().describe("Replaces every variant when given."),
  })
  .strict();
export type TemplatePatch = z.input<typeof TemplatePatch>;

export const Template = z.object({
  id: z.uuid(),
  key: z.string(),
  name: z.string(),
  channel: z.enum(CHANNELS).nullable(),
  topicId: z.uuid().nullable(),
  defaultLanguage: z.string(),
  variants: z.record(z.string(), TemplateVariant),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Template = z.infer<typeof Template>;

export const PreviewRequest = z
  .object({
    language: LanguageTag.optional().describe("The customer's language; the template default when absent."),
    channel: z.enum(CHANNELS).optional().describe("For templates that fit any channel; defaults to sms."),
    customer: z
      .object({
        traits: z.record(z.string(), z.unknown()).default({}),
        identities: z.record(z.string(), z.array(z.string())).default({}),
      })
      .strict()
      .optional(),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type PreviewRequest = z.input<typeof PreviewRequest>;

export const RenderedContentView = z.object({
  subject: z.string().optional(),
  html: z.string().optional(),
  text: z.string(),
  title: z.string().optional(),
});

export const PreviewResult = z.object({
  language: z.string().describe("The variant chosen."),
  channel: z.enum(CHANNELS),
  content: RenderedContentView,
});
export type PreviewResult = z.infer<typeof PreviewResult>;
