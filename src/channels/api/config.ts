import { z } from "zod";
import { newWebhookSecret } from "../../delivery/webhooks/sign.ts";
import { checkDestination, type Resolve } from "../../delivery/webhooks/ssrf.ts";
import { AppError } from "../../errors.ts";

/**
 * An API inbox's settings (`inboxes.config` of an `api` inbox): where agents' replies are
 * posted (`webhookUrl`), the Standard Webhooks secret that signs them (`whsec_…`, made when
 * the inbox is created), and whether the URL may be on a private network (`allowPrivate`,
 * for a receiver inside the brand's own network).
 */
export const ApiInboxConfig = z.object({
  webhookUrl: z.string().trim().min(1).max(2000).optional(),
  webhookSecret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, "must be whsec_ followed by at least 16 bytes in base64")
    .optional(),
  allowPrivate: z.boolean().default(false),
});
export type ApiInboxConfig = z.infer<typeof ApiInboxConfig>;

/** Reads an API inbox's settings, or says what is wrong with them. */
export function parseApiInboxConfig(
  config: unknown,
): { ok: true; config: ApiInboxConfig } | { ok: false; error: string } {
  const parsed = ApiInboxConfig.safeParse(config);
  if (parsed.success) return { ok: true, config: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${issue?.path.join(".") || "config"}: ${issue?.message ?? "is invalid"}` };
}

/**
 * Checks an API inbox's settings before they are saved and completes them: the webhook URL
 * must be http(s) and reach no internal address (unless `allowPrivate`; metadata addresses
 * never), and a signing secret is made when none is given, so every reply is signed from the
 * first one and the secret is shown with the inbox to whoever created it.
 */
export async function prepareApiInboxConfig(
  config: Record<string, unknown>,
  opts: { resolve?: Resolve | undefined } = {},
): Promise<Record<string, unknown>> {
  const parsed = parseApiInboxConfig(config);
  if (!parsed.ok) {
    throw new AppError(
      "api_channel.invalid_config",
      `The API inbox's settings are invalid: ${parsed.error}.`,
    );
  }
  const { webhookUrl, webhookSecret, allowPrivate } = parsed.config;
  if (webhookUrl !== undefined) {
    // webhooks.invalid_url, webhooks.url_forbidden or webhooks.unresolvable_host, each saying what to fix
    await checkDestination(webhookUrl, { allowPrivate, resolve: opts.resolve });
  }
  return { ...config, webhookSecret: webhookSecret ?? newWebhookSecret() };
}
