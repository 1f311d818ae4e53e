import { z } from "zod";
import { getInbox, type Inbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";

/** WCAG's contrast ratio of white text on a #rrggbb colour. */
export function contrastWithWhite(hex: string): number {
  const channel = (i: number) => {
    const v = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (luminance + 0.05);
}

/**
 * A chat inbox's settings, kept in the inbox's `config` (written by admins through
 * `POST /api/v1/inboxes`). Every field has a default, so a bare `{ kind: "chat" }` inbox works.
 */
export const ChatConfig = z.object({
  /**
   * "enforced": a visitor who names a user id must prove it with `userHash` (else 401, nothing
   * stored). "optional": a user id without a hash is kept as the `claimed_user_id` trait of the
   * anonymous visitor and never joins the account. A wrong hash is refused in both modes.
   */
  identityVerification: z.enum(["enforced", "optional"]).default("optional"),
  /** The secret the brand's backend signs user ids with; the workspace's identity secret when absent. */
  identitySecret: z.string().min(16).max(200).optional(),
  /** How long an agent's reply may stay unseen in the widget before it is sent by email. */
  emailFallbackMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(5),
  /** The brand's sites allowed to embed the chat frame (CSP frame-ancestors); any site when empty. */
  allowedOrigins: z
    .array(z.string().regex(/^https?:\/\/[^/\s]+$/, "an origin such as https://www.example.com"))
    .max(50)
    .default([]),
  /** The first words a visitor reads, per language (en, fr); the product's own greeting otherwise. */
  greeting: z.partialRecord(z.enum(["en", "fr"]), z.string().min(1).max(300)).default({}),
  /** The launcher's and the visitor's bubbles' colour (#rrggbb), dark enough for white text. */
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .refine((c) => contrastWithWhite(c) >= 4.5, "white text on it must reach a 4.5:1 contrast")
    .default("#1d4ed8"),
});
export type ChatConfig = z.infer<typeof ChatConfig>;

/** A chat inbox with its settings parsed. */
export type ChatInbox = { inbox: Inbox; settings: ChatConfig };

/**
 * The chat settings of an inbox; a setting that does not parse falls back to its default
 * (and the rest still apply), so one admin typo never takes the widget down.
 */
export function chatSettings(inbox: Inbox): ChatConfig {
  const parsed = ChatConfig.safeParse(inbox.config);
  if (parsed.success) return parsed.data;
  const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
  const kept = Object.fromEntries(Object.entries(inbox.config).filter(([k]) => !bad.has(k)));
  return ChatConfig.parse(kept);
}

/**
 * The chat inbox a widget names. Anything else (another kind, another workspace's id, a
 * malformed id) is `chat.inbox_not_found`: the widget learns nothing about other inboxes.
 */
export async function getChatInbox(db: Db, workspaceId: string, inboxId: string): Promise<ChatInbox> {
  const notFound = () =>
    new AppError("chat.inbox_not_found", "No chat inbox with that id: check the snippet's data-inbox.", {
      inboxId,
    });
  if (!z.uuid().safeParse(workspaceId).success) throw notFound();
  const inbox = await getInbox(db, workspaceId, inboxId).catch((err: unknown) => {
    throw isAppError(err) ? notFound() : err;
  });
  if (inbox.kind !== "chat") throw notFound();
  return { inbox, settings: chatSettings(inbox) };
}
