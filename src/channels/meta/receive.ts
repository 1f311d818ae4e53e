import type { AttachmentStore } from "../../conversations/attachments.ts";
import { getConversation } from "../../conversations/conversations.ts";
import { findByProviderId, type InboundMessage, receiveInbound } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { isOwnProviderMessage } from "../../delivery/deliveries.ts";
import { AppError } from "../../errors.ts";
import type { IdentityKind } from "../../profiles/identifiers.ts";
import type { Traits } from "../../profiles/tables.ts";
import { type MetaInbox, type MetaInboxConfig, type MetaInboxKind, metaInboxOf } from "./config.ts";
import {
  type MetaComment,
  type MetaContact,
  type MetaDirectMessage,
  type MetaItem,
  readMetaWebhook,
} from "./events.ts";
import { isRapportEcho } from "./graph.ts";
import { attachmentRefs, fetchMetaAttachments } from "./media.ts";
import { queuePostFetch } from "./posts.ts";
import { verifyMetaSignature } from "./signature.ts";
import { applyMetaStatus, META_PROVIDER_KIND } from "./statuses.ts";

/** A webhook post as it came: its raw bytes (signed) and its `X-Hub-Signature-256`. */
export type MetaRequest = { rawBody: Buffer | undefined; signature: string | undefined };

/** What a webhook post brought: stored messages, replays, ledger news, and what was left alone. */
export type MetaOutcome = {
  stored: number;
  duplicates: number;
  statuses: number;
  ignored: Array<{ what: string; reason: string }>;
};

export type MetaReceiveOptions = {
  defaultCountry: string;
  /** Where message files are kept; without one only their URLs are. */
  store?: AttachmentStore | undefined;
  mediaTimeoutMs?: number | undefined;
};

const IDENTITY: Record<MetaInboxKind, IdentityKind> = {
  messenger: "messenger_psid",
  instagram: "instagram_id",
};

/**
 * Takes in one Meta webhook post for a Messenger or Instagram inbox: checks
 * `X-Hub-Signature-256` over the raw body with the inbox's app secret (403, nothing stored),
 * reads the whole payload (400 on an unknown `object` or a shape it cannot read, nothing
 * stored), then stores each customer message and comment through `receiveInbound` (once per
 * mid or comment id), keeps replies the page made elsewhere as outbound messages, and moves
 * the delivery ledger on delivery and read news.
 */
export async function receiveMetaWebhook(
  db: Db,
  workspaceId: string,
  inboxId: string,
  request: MetaRequest,
  opts: MetaReceiveOptions,
): Promise<MetaOutcome> {
  const { inbox, config } = metaInboxOf(await getInbox(db, workspaceId, inboxId));
  verifyMetaSignature(config.appSecret, request.rawBody ?? Buffer.alloc(0), request.signature);
  let body: unknown;
  try {
    body = JSON.parse((request.rawBody ?? Buffer.alloc(0)).toString("utf8"));
  } catch (err) {
    throw new AppError(
      "meta.malformed_json",
      `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`,
    );
  }
  const items = readMetaWebhook(inbox, body);
  const ctx: Ctx = { db, workspaceId, inbox, config, identity: IDENTITY[inbox.kind], opts };
  const outcome: MetaOutcome = { stored: 0, duplicates: 0, statuses: 0, ignored: [] };
  // in order: a message and its read can come in one post
  for (const item of items) {
    const result = await apply(ctx, item);
    if (result === "stored") outcome.stored++;
    else if (result === "duplicate") outcome.duplicates++;
    else if (typeof result === "number") outcome.statuses += result;
    else outcome.ignored.push(result);
  }
  return outcome;
}

type Ctx = {
  db: Db;
  workspaceId: string;
  inbox: MetaInbox;
  config: MetaInboxConfig;
  identity: IdentityKind;
  opts: MetaReceiveOptions;
};

type Applied = "stored" | "duplicate" | number | { what: string; reason: string };

async function apply(ctx: Ctx, item: MetaItem): Promise<Applied> {
  switch (item.type) {
    case "ignored":
      return { what: item.what, reason: item.reason };
    case "status":
      return applyMetaStatus(ctx.db, ctx.workspaceId, ctx.identity, item);
    case "message":
      return item.direction === "outbound" ? applyEcho(ctx, item) : applyMessage(ctx, item);
    case "comment":
      return item.own ? applyOwnComment(ctx, item) : applyComment(ctx, item);
  }
}

function traitsOf(contact: MetaContact): Traits | undefined {
  if (contact.name) return { name: contact.name };
  if (contact.username) return { instagramUsername: contact.username };
  return undefined;
}

async function store(
  ctx: Ctx,
  message: Omit<InboundMessage, "inboxId">,
  inTransaction?: (tx: Db) => Promise<void>,
): Promise<Applied> {
  const result = await receiveInbound(
    ctx.db,
    ctx.workspaceId,
    { inboxId: ctx.inbox.id, ...message },
    { defaultCountry: ctx.opts.defaultCountry, inbox: ctx.inbox, inTransaction },
  );
  return result.duplicate ? "duplicate" : "stored";
}

async function applyMessage(ctx: Ctx, m: MetaDirectMessage): Promise<Applied> {
  const refs = attachmentRefs(m.attachments);
  // a replayed message was stored with its files the first time: fetch nothing again
  const replay = await findByProviderId(ctx.db, ctx.workspaceId, ctx.inbox.id, m.mid);
  if (replay) return "duplicate";
  const fetched =
    ctx.opts.store && refs.length > 0
      ? await fetchMetaAttachments(ctx.opts.store, ctx.workspaceId, m.attachments, {
          ...(ctx.opts.mediaTimeoutMs !== undefined ? { timeoutMs: ctx.opts.mediaTimeoutMs } : {}),
        })
      : { attachments: [], failures: [] };
  return store(ctx, {
    from: [{ kind: ctx.identity, value: m.contact.id }],
    contactAddress: m.contact.id,
    providerMessageId: m.mid,
    text: m.text,
    attachments: fetched.attachments,
    metadata: {
      source: ctx.inbox.kind === "messenger" ? "messenger_dm" : "instagram_dm",
      mid: m.mid,
      from: { id: m.contact.id },
      ...m.metadata,
      ...(refs.length > 0 ? { attachments: refs } : {}),
      ...(fetched.failures.length > 0 ? { mediaFailures: fetched.failures } : {}),
    },
    receivedAt: m.at,
  });
}

/** Whether the Meta provider sent this message or comment (its id is on one of our deliveries). */
async function sentByRapport(ctx: Ctx, providerMessageId: string): Promise<boolean> {
  return isOwnProviderMessage(ctx.db, ctx.workspaceId, META_PROVIDER_KIND, providerMessageId);
}

/**
 * An echo of a message the page sent. Rapport's own replies are already in their conversation
 * (marked by the metadata Rapport sends with them, the app id when configured, or the mid on
 * a delivery); anything else was answered elsewhere (Business Suite, the Instagram app) and
 * is kept as an outbound message, so agents see the whole exchange.
 */
async function applyEcho(ctx: Ctx, m: MetaDirectMessage): Promise<Applied> {
  const mine =
    isRapportEcho(m.echo?.metadata) ||
    (ctx.config.appId !== undefined && m.echo?.appId === ctx.config.appId) ||
    (await sentByRapport(ctx, m.mid));
  if (mine) return { what: m.mid, reason: "the echo of a reply Rapport sent" };
  const refs = attachmentRefs(m.attachments);
  return store(ctx, {
    from: [{ kind: ctx.identity, value: m.contact.id }],
    contactAddress: m.contact.id,
    providerMessageId: m.mid,
    text: m.text,
    direction: "outbound",
    reopen: false,
    metadata: {
      source: ctx.inbox.kind === "messenger" ? "messenger_dm" : "instagram_dm",
      mid: m.mid,
      ...m.metadata,
      ...(refs.length > 0 ? { attachments: refs } : {}),
    },
    receivedAt: m.at,
  });
}

async function applyComment(ctx: Ctx, c: MetaComment): Promise<Applied> {
  const contact = c.contact;
  if (!contact) return { what: c.commentId, reason: "the comment names no author" };
  const traits = traitsOf(contact);
  const post = c.post;
  // the post's text comes from the Graph API: asked for with the comment, once per post
  const fetchPost = post ? (tx: Db) => queuePostFetch(tx, ctx.workspaceId, ctx.inbox.id, post) : undefined;
  return store(
    ctx,
    {
      from: [{ kind: ctx.identity, value: contact.id }],
      contactAddress: contact.id,
      ...(traits ? { traits } : {}),
      providerMessageId: c.commentId,
      text: c.text,
      threadKey: c.threadKey,
      subject: c.subject,
      metadata: c.metadata,
      receivedAt: c.at,
    },
    fetchPost,
  );
}

/**
 * The brand's own comment. It never opens a conversation; one answering a customer's comment
 * Rapport knows, written elsewhere, joins that comment's conversation as an outbound message
 * (Rapport's own replies are already there).
 */
async function applyOwnComment(ctx: Ctx, c: MetaComment): Promise<Applied> {
  const parent = c.parentCommentId
    ? await findByProviderId(ctx.db, ctx.workspaceId, ctx.inbox.id, c.parentCommentId)
    : undefined;
  if (!parent)
    return { what: c.commentId, reason: "the brand's own comment, not an answer to a known comment" };
  const conversation = await getConversation(ctx.db, ctx.workspaceId, parent.conversationId);
  const contactId = conversation.contactAddress;
  if (!contactId) return { what: c.commentId, reason: "the answered conversation has no contact" };
  if (await sentByRapport(ctx, c.commentId)) {
    return { what: c.commentId, reason: "a comment reply Rapport sent" };
  }
  // the brand's comment is not one to answer: it carries no replyTo
  const { replyTo: _reply, ...metadata } = c.metadata;
  return store(ctx, {
    from: [{ kind: ctx.identity, value: contactId }],
    contactAddress: contactId,
    providerMessageId: c.commentId,
    text: c.text,
    threadKey: c.threadKey,
    direction: "outbound",
    reopen: false,
    metadata,
    receivedAt: c.at,
  });
}
