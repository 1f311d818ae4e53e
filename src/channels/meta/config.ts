import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { AppError } from "../../errors.ts";

/** The Graph API Rapport talks to when an inbox names none. */
export const DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com/v21.0";

export const META_INBOX_KINDS = ["messenger", "instagram"] as const;
export type MetaInboxKind = (typeof META_INBOX_KINDS)[number];

/**
 * A Messenger or Instagram inbox's settings (`inboxes.config`). The inbox's `address` is the
 * Facebook page id (messenger) or the Instagram professional account id (instagram): entries
 * of a webhook for another page or account are left alone.
 *
 * - `appSecret` keys `X-Hub-Signature-256` (the Meta app's secret, App settings › Basic);
 * - `verifyToken` is the string typed in the app's webhook settings, answered by the
 *   `hub.challenge` handshake;
 * - `pageAccessToken` sends replies; without it replies go to the workspace's channel
 *   provider (the sandbox unless one is set), so an inbox can be tried before it is connected;
 * - `graphBaseUrl` is where replies go (a version of graph.facebook.com, or a local fake);
 * - `appId`, when given, marks echoes of messages this app sent (Rapport's own replies);
 * - `pageId` is for an Instagram account answered through its Facebook page's Graph node
 *   (Facebook Login): DMs and private replies then go to `{pageId}/messages`.
 */
export const MetaInboxConfig = z.object({
  appSecret: z.string().min(1, "must be the Meta app's secret"),
  verifyToken: z.string().min(1, "must be the verify token typed in the app's webhook settings"),
  pageAccessToken: z.string().min(1).optional(),
  graphBaseUrl: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://graph.facebook.com/v21.0" })
    .default(DEFAULT_GRAPH_BASE_URL),
  appId: z
    .string()
    .regex(/^\d{1,32}$/, "must be the Meta app's numeric id")
    .optional(),
  pageId: z
    .string()
    .regex(/^\d{1,32}$/, "must be the Facebook page's numeric id")
    .optional(),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
});
export type MetaInboxConfig = z.infer<typeof MetaInboxConfig>;

/** A Messenger or Instagram inbox. */
export type MetaInbox = Inbox & { kind: MetaInboxKind };

/** True for the inbox kinds Meta's webhooks feed. */
export function isMetaInbox(inbox: Inbox): inbox is MetaInbox {
  return META_INBOX_KINDS.some((k) => k === inbox.kind);
}

/**
 * The Meta settings of a Messenger or Instagram inbox. Any other inbox is "not found" to a
 * Meta webhook; settings that do not parse make every request unverifiable (403), with the
 * field to fix named.
 */
export function metaInboxOf(inbox: Inbox): { inbox: MetaInbox; config: MetaInboxConfig } {
  if (!isMetaInbox(inbox)) {
    throw new AppError(
      "meta.inbox_not_found",
      `This inbox is a ${inbox.kind} inbox; Meta webhooks post only to messenger or instagram inboxes.`,
      { inboxId: inbox.id },
    );
  }
  const parsed = MetaInboxConfig.safeParse(inbox.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "meta.forbidden",
      `This inbox's Meta settings are incomplete (${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}); no request can be verified until they are fixed.`,
      { inboxId: inbox.id },
    );
  }
  return { inbox, config: parsed.data };
}
