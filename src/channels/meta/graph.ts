import { z } from "zod";
import { webUrl } from "../../conversations/social-posts.ts";
import {
  callProvider,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  type HttpAnswer,
  type HttpCall,
  isTransientStatus,
  retryableAnswer,
} from "../../delivery/providers/http-call.ts";
import type { OutboundMessage, SendResult } from "../../delivery/providers/types.ts";
import type { MetaInboxKind } from "./config.ts";

/** One Graph API call: the path under the base URL and its JSON body. */
export type GraphCall = { path: string; body: Record<string, unknown> };

/** What a reply needs to know of its inbox to become a Graph call. */
export type GraphSender = {
  kind: MetaInboxKind;
  /** The Graph node that sends DMs and private replies: the page, the Instagram account, or "me". */
  node: string;
};

// echoed back by Messenger in the echo's `metadata`, so Rapport knows its own replies
const ECHO_MARK = "rapport:";

/** The `metadata` Rapport sends with a Messenger DM, echoed back by Meta. */
export function echoMetadata(deliveryId: string): string {
  return `${ECHO_MARK}${deliveryId}`;
}

/** True for the echo of a message Rapport sent (its metadata carries Rapport's mark). */
export function isRapportEcho(metadata: string | undefined): boolean {
  return metadata?.startsWith(ECHO_MARK) === true;
}

const seg = (id: string) => encodeURIComponent(id);

/**
 * The Graph call that sends a reply, by what it answers (`via.target`):
 * - `dm`: `POST /{node}/messages` `{ recipient: { id }, messaging_type: "RESPONSE", message: { text } }`
 *   to the customer's PSID or Instagram-scoped id;
 * - `comment_public`: a reply under the comment, `POST /{comment}/comments` on Facebook,
 *   `POST /{comment}/replies` on Instagram, `{ message }`;
 * - `comment_private`: a private reply, a DM that opens from the comment,
 *   `POST /{node}/messages` `{ recipient: { comment_id }, message: { text } }`;
 * - `post`: a comment on the post or media, `POST /{post}/comments` `{ message }`.
 * Answers a reason instead when the target cannot be reached from Meta.
 */
export function graphCall(sender: GraphSender, message: OutboundMessage): GraphCall | { refused: string } {
  const target = message.via?.target ?? { kind: "dm" as const };
  const text = message.content.text;
  switch (target.kind) {
    case "dm":
      return {
        path: `/${seg(sender.node)}/messages`,
        body: {
          recipient: { id: message.to },
          messaging_type: "RESPONSE",
          message: {
            text,
            // Instagram's Send API takes no metadata
            ...(sender.kind === "messenger" ? { metadata: echoMetadata(message.deliveryId) } : {}),
          },
        },
      };
    case "comment_public":
      if (!target.id) return { refused: "a public comment reply needs the comment's id" };
      return {
        path: `/${seg(target.id)}/${sender.kind === "instagram" ? "replies" : "comments"}`,
        body: { message: text },
      };
    case "comment_private":
      if (!target.id) return { refused: "a private reply needs the comment's id" };
      return {
        path: `/${seg(sender.node)}/messages`,
        body: { recipient: { comment_id: target.id }, message: { text } },
      };
    case "post":
      if (!target.id) return { refused: "a comment on a post needs the post's id" };
      return { path: `/${seg(target.id)}/comments`, body: { message: text } };
    default:
      return { refused: `a ${target.kind} reply cannot be sent through Meta` };
  }
}

const GraphError = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
    is_transient: z.boolean().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

const GraphSent = z.object({ message_id: z.string().min(1).optional(), id: z.string().min(1).optional() });

// unknown error, service down, app and page rate limits, temporary block: another try may pass
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 32, 341, 613]);
const isBusinessRateLimit = (code: number) => code >= 80001 && code <= 80014;

/**
 * Maps a Graph answer to the engine's result: the new message's `message_id` (Send API) or
 * the new comment's `id`; throttling, outages and the error codes Meta documents as transient
 * are retried; anything else (outside the 24-hour window — code 10 or subcode 2018278 —,
 * an expired token — 190 —, a deleted comment…) is final, with Meta's own message.
 */
export function mapGraphAnswer(answer: HttpAnswer): SendResult {
  if (answer.status >= 200 && answer.status < 300) {
    const sent = GraphSent.safeParse(answer.json);
    const id = sent.success ? (sent.data.message_id ?? sent.data.id) : undefined;
    if (id) return { ok: true, providerMessageId: id, state: "sent" };
    // accepted without an id: trying again could post twice
    return {
      ok: false,
      retryable: false,
      reason: `meta_bad_answer: ${answer.status} without a message or comment id`,
    };
  }
  return graphFailure(answer);
}

/**
 * A Graph error answer as a failure: throttling, outages and the codes Meta documents as
 * transient are retryable (with Retry-After when given); anything else is final, with Meta's
 * own message.
 */
export function graphFailure(answer: HttpAnswer): Extract<SendResult, { ok: false }> {
  const parsed = GraphError.safeParse(answer.json);
  const error = parsed.success ? parsed.data.error : undefined;
  const code = error?.code;
  const label =
    code !== undefined
      ? `${code}${error?.error_subcode !== undefined ? `/${error.error_subcode}` : ""}`
      : undefined;
  const text = error?.message ?? answer.text.slice(0, 200);
  const reason = label ? `meta_error: ${label} ${text}` : `meta_http_${answer.status}: ${text}`;
  const retryable =
    isTransientStatus(answer.status) ||
    error?.is_transient === true ||
    (code !== undefined && (RETRYABLE_CODES.has(code) || isBusinessRateLimit(code)));
  return retryable ? retryableAnswer(answer, reason) : { ok: false, retryable: false, reason };
}

/** What Rapport reads of a Facebook post or an Instagram media, by the inbox's kind. */
export const POST_FIELDS: Record<MetaInboxKind, string> = {
  messenger: "message,permalink_url,full_picture,created_time",
  instagram: "caption,permalink,media_url,thumbnail_url,media_type,timestamp",
};

/** The Graph path that reads one post or media with the fields Rapport shows. */
export function postPath(kind: MetaInboxKind, id: string): string {
  return `/${seg(id)}?fields=${POST_FIELDS[kind]}`;
}

/** A post as Rapport keeps it: its words, its link, its picture (a display hint), its time. */
export type GraphPost = {
  text: string | null;
  permalinkUrl: string | null;
  mediaUrl: string | null;
  postedAt: Date | null;
};

// each field read on its own: one of an unexpected shape is left out, the rest is kept
const field = z.string().max(100_000).optional().catch(undefined);
const FacebookPost = z.object({
  message: field,
  permalink_url: field,
  full_picture: field,
  created_time: field,
});
const InstagramMedia = z.object({
  caption: field,
  permalink: field,
  media_url: field,
  thumbnail_url: field,
  media_type: field,
  timestamp: field,
});

function graphTime(value: string | undefined): Date | null {
  // Graph writes `2024-11-24T09:28:20+0000`
  const at = value ? new Date(value) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/**
 * Reads Graph's answer for a post (Facebook: `message`, `permalink_url`, `full_picture`,
 * `created_time`) or a media (Instagram: `caption`, `permalink`, `media_url` — a video's
 * picture is its `thumbnail_url` —, `timestamp`); undefined when the answer is no object.
 */
export function readGraphPost(kind: MetaInboxKind, json: unknown): GraphPost | undefined {
  if (kind === "messenger") {
    const p = FacebookPost.safeParse(json);
    if (!p.success) return undefined;
    return {
      text: p.data.message ?? null,
      permalinkUrl: webUrl(p.data.permalink_url),
      mediaUrl: webUrl(p.data.full_picture),
      postedAt: graphTime(p.data.created_time),
    };
  }
  const m = InstagramMedia.safeParse(json);
  if (!m.success) return undefined;
  const video = m.data.media_type === "VIDEO";
  return {
    text: m.data.caption ?? null,
    permalinkUrl: webUrl(m.data.permalink),
    mediaUrl: webUrl(video ? m.data.thumbnail_url : (m.data.media_url ?? m.data.thumbnail_url)),
    postedAt: graphTime(m.data.timestamp),
  };
}

/** Graph's ids of posts and media: digits, a page's posts as `<page>_<post>`. */
export function isGraphId(id: string): boolean {
  return /^\d{1,64}(_\d{1,64})?$/.test(id);
}

/** A Graph read (`GET`) with the inbox's token, under a deadline; network failures come back retryable. */
export async function readGraph(
  config: { graphBaseUrl: string; pageAccessToken: string; timeoutMs?: number | undefined },
  path: string,
  signal: AbortSignal,
): Promise<HttpCall> {
  return callProvider(
    `${config.graphBaseUrl.replace(/\/$/, "")}${path}`,
    {
      method: "GET",
      headers: { authorization: `Bearer ${config.pageAccessToken}`, accept: "application/json" },
    },
    signal,
    config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
  );
}
