import * as z from "zod/mini";
import type { Attachment, Message } from "../../api.ts";

// What each channel keeps in a message's metadata, read leniently: a field that is missing or
// of another shape is simply not shown.

const str = z.optional(z.nullable(z.string()));

export const EmailMeta = z.object({
  subject: str,
  from: z.optional(z.nullable(z.object({ address: z.string(), name: z.optional(z.string()) }))),
  to: z.optional(z.array(z.string())),
  cc: z.optional(z.array(z.string())),
  autoReply: z.optional(z.boolean()),
  inlineImages: z.optional(z.record(z.string(), z.string())),
});

export const MetaMeta = z.object({
  source: z.string(),
  parentCommentId: str,
  post: z.optional(z.object({ id: z.string(), permalinkUrl: str })),
  story: z.optional(z.unknown()),
  elsewhere: z.optional(z.boolean()),
  echo: z.optional(z.boolean()),
});

export const XMeta = z.object({
  channel: z.literal("x"),
  kind: z.string(),
  elsewhere: z.optional(z.boolean()),
  from: z.optional(z.object({ screenName: str })),
  tweet: z.optional(
    z.object({
      url: str,
      quoted: z.optional(
        z.nullable(z.object({ url: str, text: z.string(), user: z.object({ screenName: z.string() }) })),
      ),
    }),
  ),
});

export const CallMeta = z.object({
  call: z.object({
    direction: z.string(),
    status: z.string(),
    from: z.optional(z.string()),
    to: z.optional(z.string()),
    durationSeconds: z.optional(z.number()),
    waitSeconds: z.optional(z.number()),
    error: z.optional(z.string()),
    recording: z.optional(z.object({ key: z.string(), name: z.string(), contentType: z.string() })),
    recordingError: z.optional(z.string()),
    transcription: z.optional(z.string()),
  }),
});

/** What an outbound reply of a social inbox went out as (public under a comment, a DM…). */
export const ReplyMeta = z.object({ replyTarget: z.string() });

const Failures = z.object({ mediaFailures: z.array(z.unknown()) });

/** Parses a message's metadata with `schema`, or answers undefined. */
export function read<T>(schema: z.ZodMiniType<T>, m: Message): T | undefined {
  const parsed = schema.safeParse(m.metadata ?? {});
  return parsed.success ? parsed.data : undefined;
}

/** How many media items of the message could not be fetched and kept. */
export function mediaFailures(m: Message): number {
  return read(Failures, m)?.mediaFailures.length ?? 0;
}

/** Where the browser loads an attachment from (Rapport serves every stored file itself). */
export function attachmentUrl(a: Pick<Attachment, "key" | "url">): string {
  return a.url?.startsWith("/") ? a.url : `/api/v1/attachments/${a.key}`;
}

/** Only web addresses become links: a stored `javascript:` or `data:` URL stays text. */
export function safeLink(url: string | null | undefined): string | undefined {
  return url && /^https?:\/\//i.test(url) ? url : undefined;
}

/** A size for people: 512 B, 14 KB, 3.2 MB. */
export function formatSize(bytes: number, locale: string): string {
  const f = (n: number, digits: number) =>
    new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);
  if (bytes < 1024) return `${f(bytes, 0)} B`;
  if (bytes < 1024 * 1024) return `${f(bytes / 1024, 0)} KB`;
  return `${f(bytes / 1024 / 1024, 1)} MB`;
}

/** A duration as m:ss (or h:mm:ss). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
