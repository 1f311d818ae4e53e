import { z } from "zod";
import type { Inbox } from "../../conversations/inboxes.ts";
import {
  callProvider,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  type HttpAnswer,
  isTransientStatus,
  retryableAnswer,
} from "../../delivery/providers/http-call.ts";
import type { OutboundMessage, Provider, SendResult } from "../../delivery/providers/types.ts";
import { AppError } from "../../errors.ts";
import { XSendConfig } from "./config.ts";
import { MAX_TWEET_LENGTH, weightedTweetLength } from "./text-length.ts";

/** The longest DM X accepts. */
const MAX_DM_LENGTH = 10_000;

const TweetCreated = z.object({ data: z.object({ id: z.string().min(1) }) });
const DmCreated = z.object({ data: z.object({ dm_event_id: z.string().min(1) }) });
// X API v2 answers problems (RFC 7807-like: title, detail) and sometimes a list of errors
const XProblem = z.object({
  title: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.object({ message: z.string().optional() })).optional(),
});

const fail = (reason: string): SendResult => ({ ok: false, retryable: false, reason });

/** X's own words about a refused request: title, detail and each listed error. */
function problemText(answer: HttpAnswer): string {
  const p = XProblem.safeParse(answer.json);
  if (!p.success) return answer.text.slice(0, 300);
  const parts = [p.data.title, p.data.detail, ...(p.data.errors ?? []).map((e) => e.message)].filter(
    (s): s is string => typeof s === "string" && s.length > 0,
  );
  return parts.length > 0 ? [...new Set(parts)].join(": ").slice(0, 500) : answer.text.slice(0, 300);
}

function mapAnswer(answer: HttpAnswer, created: (json: unknown) => string | undefined): SendResult {
  if (answer.status >= 200 && answer.status < 300) {
    const id = created(answer.json);
    // accepted without an id: another attempt could post a second time
    return id
      ? { ok: true, providerMessageId: id, state: "sent" }
      : fail(`x_bad_answer: ${answer.status} without the created id`);
  }
  if (answer.status === 429) {
    // X says when the window resets (epoch seconds), rather than Retry-After
    const reset = Number(answer.headers.get("x-rate-limit-reset"));
    if (Number.isFinite(reset) && reset > 0) {
      return {
        ok: false,
        retryable: true,
        reason: `x_rate_limited: ${problemText(answer)}`,
        retryAfterMs: Math.max(0, reset * 1000 - Date.now()),
      };
    }
  }
  if (isTransientStatus(answer.status)) {
    return retryableAnswer(answer, `x_http_${answer.status}: ${problemText(answer)}`);
  }
  return fail(`x_http_${answer.status}: ${problemText(answer)}`);
}

/**
 * Sends an agent's reply through the brand's X account, over the X API v2 at `apiBaseUrl`
 * with the inbox's user-context bearer token:
 * - target `post`: a public reply to the tweet (`POST /2/tweets` with
 *   `reply.in_reply_to_tweet_id`); over 280 characters as X counts them it fails at once,
 *   saying so, since X would refuse it anyway;
 * - target `dm` (the default): a DM to the conversation's X user
 *   (`POST /2/dm_conversations/with/{participant_id}/messages`).
 * The provider message id is the tweet id or the DM event id: the webhook's echo of the
 * reply is recognised by it. X takes no idempotency key; the delivery ledger is what keeps a
 * reply from being sent twice. Undefined when the inbox holds no access token (the
 * workspace's `x` provider, the sandbox by default, sends instead).
 */
export function createXProvider(inbox: Inbox): Provider | undefined {
  const token = inbox.config.accessToken;
  if (typeof token !== "string" || token.length === 0) return undefined;
  const parsed = XSendConfig.safeParse(inbox.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "x.invalid_config",
      `This X inbox's settings do not parse (${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}); fix them to send replies.`,
      { inboxId: inbox.id },
    );
  }
  return xProvider(parsed.data, token);
}

function xProvider(config: XSendConfig, accessToken: string): Provider {
  const base = config.apiBaseUrl.replace(/\/$/, "");
  const headers = {
    authorization: `Bearer ${accessToken}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  const post = async (path: string, body: unknown, signal: AbortSignal) =>
    callProvider(
      `${base}${path}`,
      { method: "POST", headers, body: JSON.stringify(body) },
      signal,
      config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
    );
  return {
    kind: "x",
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
      const target = message.via?.target ?? { kind: "dm" };
      const text = message.content.text;
      if (target.kind === "post") {
        if (!target.id) return fail("x_no_tweet: a public reply needs the id of the tweet it answers");
        const length = weightedTweetLength(text);
        if (length > MAX_TWEET_LENGTH) {
          return fail(
            `x_tweet_too_long: this reply counts ${length} characters as X counts them (a link 23, an emoji 2); a public reply holds ${MAX_TWEET_LENGTH} at most. Shorten it, or answer privately (visibility "private") by DM.`,
          );
        }
        const call = await post("/2/tweets", { text, reply: { in_reply_to_tweet_id: target.id } }, signal);
        return call.ok ? mapAnswer(call.answer, (j) => TweetCreated.safeParse(j).data?.data.id) : call.result;
      }
      if (target.kind === "dm") {
        if (!/^\d{1,32}$/.test(message.to)) {
          return fail(
            `x_invalid_recipient: "${message.to}" is not an X user id; a DM goes to the user's numeric id`,
          );
        }
        if (text.length > MAX_DM_LENGTH) {
          return fail(
            `x_dm_too_long: a DM holds ${MAX_DM_LENGTH} characters at most; this one has ${text.length}`,
          );
        }
        const call = await post(`/2/dm_conversations/with/${message.to}/messages`, { text }, signal);
        return call.ok
          ? mapAnswer(call.answer, (j) => DmCreated.safeParse(j).data?.data.dm_event_id)
          : call.result;
      }
      return fail(
        `x_unsupported_target: an X reply is a public reply to a tweet or a DM, not a ${target.kind}`,
      );
    },
  };
}
