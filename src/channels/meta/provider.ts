import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import { callProvider, DEFAULT_PROVIDER_TIMEOUT_MS } from "../../delivery/providers/http-call.ts";
import type { Provider } from "../../delivery/providers/types.ts";
import { AppError } from "../../errors.ts";
import { isMetaInbox, MetaInboxConfig } from "./config.ts";
import { graphCall, mapGraphAnswer } from "./graph.ts";
import { META_PROVIDER_KIND } from "./statuses.ts";

// sending needs the token and where to call, not the webhook secrets
const SendConfig = MetaInboxConfig.pick({ graphBaseUrl: true, pageId: true, timeoutMs: true }).extend({
  pageAccessToken: z.string().min(1),
});

/**
 * Sends replies through a Facebook page or Instagram account's Graph API (base URL
 * configurable, `Authorization: Bearer` with the page access token): DMs, public and private
 * replies to comments, comments on posts (see `graphCall`). Undefined while the inbox holds
 * no page access token, so the workspace's channel provider (the sandbox) sends instead.
 * Graph has no idempotency key: the delivery ledger is what keeps a reply from going twice.
 */
export function createMetaProvider(inbox: Inbox): Provider | undefined {
  const token = inbox.config.pageAccessToken;
  if (!isMetaInbox(inbox) || typeof token !== "string" || token.length === 0) return undefined;
  const parsed = SendConfig.safeParse(inbox.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // the engine records this as a final failure of the reply, naming what to fix
    throw new AppError(
      "meta.invalid_config",
      `Inbox "${inbox.name}": ${issue?.path.join(".") || "config"} ${issue?.message ?? "is invalid"}.`,
      { inboxId: inbox.id },
    );
  }
  const config = parsed.data;
  const base = config.graphBaseUrl.replace(/\/$/, "");
  const sender = { kind: inbox.kind, node: config.pageId ?? inbox.address ?? "me" };
  return {
    kind: META_PROVIDER_KIND,
    async send(message, signal) {
      const call = graphCall(sender, message);
      if ("refused" in call)
        return { ok: false, retryable: false, reason: `meta_bad_target: ${call.refused}` };
      const result = await callProvider(
        `${base}${call.path}`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${config.pageAccessToken}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(call.body),
        },
        signal,
        config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
      );
      return result.ok ? mapGraphAnswer(result.answer) : result.result;
    },
  };
}
