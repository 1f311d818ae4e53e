import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { AppError } from "../../errors.ts";

/** The X API Rapport talks to when an inbox names none. */
export const DEFAULT_X_API_BASE_URL = "https://api.x.com";

// X user ids are decimal snowflakes, far beyond 2^53: always handled as strings
const XUserId = z.string().regex(/^\d{1,32}$/, "must be the X account's numeric user id");

const ApiBaseUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.x.com" })
  .default(DEFAULT_X_API_BASE_URL);

/**
 * An X inbox's settings (`inboxes.config`); the inbox's `address` is the brand's handle or
 * user id, shown to agents.
 *
 * - `consumerSecret` is the X app's consumer secret (API secret key): it answers the CRC
 *   challenge and keys `x-twitter-webhooks-signature`;
 * - `userId` is the brand account's user id: the Account Activity subscription whose events
 *   this inbox takes (`for_user_id`), and how the brand's own tweets and DMs are told apart.
 *   A numeric `address` stands in when it is absent;
 * - `accessToken` is a user-context bearer token of the brand account (OAuth 2.0, scopes
 *   tweet.write and dm.write), used to send replies; without it replies go to the workspace's
 *   `x` channel provider (the sandbox unless one is set), so an inbox can be tried before it is
 *   connected;
 * - `apiBaseUrl` is where replies go (api.x.com, or a local fake).
 */
export const XInboxConfig = z.object({
  consumerSecret: z
    .string({ error: "must be the X app's consumer secret (API secret key)" })
    .min(1, "must be the X app's consumer secret (API secret key)"),
  userId: XUserId.optional(),
  accessToken: z.string().min(1).optional(),
  apiBaseUrl: ApiBaseUrl,
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
});
export type XInboxConfig = z.infer<typeof XInboxConfig>;

/** What sending needs: the token and where to call (the consumer secret is for webhooks only). */
export const XSendConfig = z.object({
  accessToken: z.string().min(1).optional(),
  apiBaseUrl: ApiBaseUrl,
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
});
export type XSendConfig = z.infer<typeof XSendConfig>;

/**
 * The X settings of an inbox that X's webhooks post to. Any other kind of inbox is "not
 * found" to X; settings without a consumer secret make every request unverifiable (403),
 * with the field to fix named.
 */
export function xInboxConfigOf(inbox: Inbox): XInboxConfig {
  if (inbox.kind !== "x") {
    throw new AppError(
      "x.inbox_not_found",
      `This inbox is a ${inbox.kind} inbox; X webhooks post only to x inboxes.`,
      { inboxId: inbox.id },
    );
  }
  const parsed = XInboxConfig.safeParse(inbox.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "x.config_forbidden",
      `This inbox's X settings are incomplete (${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}); no X request can be verified until they are fixed.`,
      { inboxId: inbox.id },
    );
  }
  return parsed.data;
}

/** The brand account's user id: `userId`, else a numeric `address`; a clear error without either. */
export function xBrandUserId(inbox: Inbox, config: XInboxConfig): string {
  const id = config.userId ?? (inbox.address && /^\d{1,32}$/.test(inbox.address) ? inbox.address : undefined);
  if (!id) {
    throw new AppError(
      "x.config_forbidden",
      "This inbox's X settings name no account: set `userId` to the brand account's numeric user id (the `for_user_id` of its Account Activity events).",
      { inboxId: inbox.id },
    );
  }
  return id;
}
