import { sql } from "drizzle-orm";
import { z } from "zod";
import { queueApiChannelReply } from "../channels/api/reply.ts";
import { conversationReplyTo } from "../channels/email/reply-to.ts";
import { loadConfig } from "../config.ts";
import { addressHash, suppressionsFor } from "../consent/suppressions.ts";
import { ensureDefaultTopics } from "../consent/topics.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import type { ReplyVia } from "../delivery/providers/types.ts";
import { type SendOutcome, sendMessage } from "../delivery/send.ts";
import { emitWebhookEvent } from "../delivery/webhooks/dispatch.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { signedAttachmentUrl } from "./attachment-links.ts";
import { type AttachmentStore, attachmentStoreFor, isAttachmentKey } from "./attachments.ts";
import { getConversation } from "./conversations.ts";
import { conversationsTopic } from "./inbound.ts";
import { getInbox } from "./inboxes.ts";
import { recordMentions } from "./mentions.ts";
import type { Attachment, InboxKind } from "./tables.ts";

export const ReplyInput = z.object({
  text: z.string().trim().min(1).max(100_000),
  html: z.string().max(500_000).optional(),
  /** A private note: seen by agents only, never sent. */
  private: z.boolean().default(false),
  /**
   * For a comment or a public mention: answer in public under it (the default), or privately
   * (a private reply to a comment, a DM to whoever mentioned the brand).
   */
  visibility: z.enum(["public", "private"]).default("public"),
  /** A client-made id (UUID) so a retried reply is sent once. */
  clientId: z.uuid().optional(),
  /** Files uploaded by `POST /api/v1/attachments`, by their keys. */
  attachments: z
    .array(z.object({ key: z.string().min(1).max(200) }))
    .max(10, "a reply carries at most 10 files")
    .optional(),
  /** Email only: the subject (by default `Re: ` and the conversation's subject). */
  subject: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(250, "must be at most 250 characters")
    .regex(/^[^\r\n]*$/, "must be one line")
    .optional(),
  /** Email only: people copied on the reply (the customer is its recipient already). */
  cc: z
    .array(z.email("must be an email address").max(320))
    .max(20, "a reply copies at most 20 people")
    .optional(),
});
export type ReplyInput = z.input<typeof ReplyInput>;

export type ReplyResult = { messageId: string; delivery?: SendOutcome };

/**
 * An agent's answer in a conversation, or a private note. A reply goes back on the channel
 * and to the address the customer wrote from, through the Gate and the delivery ledger (the
 * `support` topic: transactional, so never held by marketing consent, but never past a
 * suppression); the message keeps its delivery, so agents see its fate.
 */
export async function replyToConversation(
  db: Db,
  workspaceId: string,
  conversationId: string,
  authorId: string | null,
  input: ReplyInput,
  opts: { publicUrl: string; store?: AttachmentStore },
): Promise<ReplyResult> {
  const parsed = ReplyInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "conversations.invalid_reply",
      `${issue?.path.join(".") || "reply"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const r = parsed.data;
  const conversation = await getConversation(db, workspaceId, conversationId);
  const cc = await copiedOn(db, workspaceId, conversation, r);
  if (conversation.mergedIntoId) {
    throw new AppError(
      "conversations.already_merged_conflict",
      `Conversation #${conversation.number} was merged into another; reply there.`,
      { id: conversationId, mergedIntoId: conversation.mergedIntoId },
    );
  }
  const messageId = r.clientId ?? uuidv7();
  if (!isUuid(messageId)) throw new AppError("conversations.invalid_id", "clientId must be a UUID.");
  const [existing] = await rows<{ id: string; deliveryId: string | null }>(
    db,
    sql`SELECT id::text AS id, delivery_id::text AS "deliveryId" FROM conversation_messages
        WHERE workspace_id = ${workspaceId} AND id = ${messageId}`,
  );
  if (existing) return { messageId: existing.id };
  const inbox = await getInbox(db, workspaceId, conversation.inboxId);
  const files = await replyFiles(opts.store, workspaceId, r.attachments ?? []);
  let delivery: SendOutcome | undefined;
  // what a social reply went out as (public under a comment, a DM…): agents see it on the message
  let sentAs: string | undefined;
  // an email reply's subject and copies, kept on the message for agents to see
  let emailSent: { subject: string; cc?: string[] } | undefined;
  // the API channel's replies leave as the message.created webhook, to the source's own system
  if (!r.private && inbox.kind !== "api") {
    if (!conversation.channel) {
      throw new AppError(
        "conversations.no_reply_channel",
        "This conversation's inbox has no channel to reply on.",
      );
    }
    await ensureDefaultTopics(db, workspaceId);
    const subject =
      r.subject ??
      (conversation.subject
        ? `Re: ${conversation.subject.replace(/^(re:\s*)+/i, "")}`
        : `Your conversation #${conversation.number}`);
    const email =
      conversation.channel === "email" ? await lastCustomerEmail(db, workspaceId, conversationId) : undefined;
    // the conversation's signed reply+ address: the customer's answer finds its way back even unthreaded
    const replyTo =
      conversation.channel === "email"
        ? await conversationReplyTo(db, workspaceId, inbox, conversationId)
        : undefined;
    const via = OWN_PROVIDER.has(inbox.kind)
      ? {
          inboxId: inbox.id,
          target: await replyTarget(db, workspaceId, conversationId, inbox.kind, r.visibility),
        }
      : // a sandboxed inbox's replies go through it, to the sandbox, whatever the workspace configured
        inbox.config.sandbox === true
        ? { inboxId: inbox.id }
        : undefined;
    const carried = await carryFiles(db, workspaceId, conversation.channel, files, r.text, opts.publicUrl);
    if (SOCIAL.has(inbox.kind)) sentAs = via?.target?.kind;
    if (conversation.channel === "email") emailSent = { subject, ...(cc.length > 0 ? { cc } : {}) };
    delivery = await sendMessage(
      db,
      workspaceId,
      {
        customerId: conversation.customerId,
        topic: "support",
        channel: conversation.channel,
        ...(conversation.contactAddress ? { address: conversation.contactAddress } : {}),
        // the agent's words and the quoted history travel as data: what people wrote is sent
        // as they wrote it, never read as Liquid
        content: {
          text: email ? "{{ data.reply }}\n\n{{ data.quoteHeader }}\n{{ data.quoted }}" : "{{ data.reply }}",
          ...(r.html
            ? {
                html: email
                  ? `{{ data.replyHtml | raw }}\n<div>{{ data.quoteHeader }}</div><blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex;white-space:pre-wrap">{{ data.quotedText }}</blockquote>`
                  : "{{ data.replyHtml | raw }}",
              }
            : {}),
          // the subject travels as data too: a customer's subject is never read as Liquid
          ...(conversation.channel === "email" ? { subject: "{{ data.subject }}" } : {}),
        },
        data: {
          reply: carried.text,
          ...(conversation.channel === "email" ? { subject } : {}),
          ...(r.html ? { replyHtml: r.html } : {}),
          ...(email ? quoteData(email) : {}),
        },
        ...(carried.attachments ? { attachments: carried.attachments } : {}),
        ...(carried.mediaUrls ? { mediaUrls: carried.mediaUrls } : {}),
        ...(email?.messageId ? { thread: { inReplyTo: email.messageId, references: email.references } } : {}),
        ...(replyTo ? { replyTo } : {}),
        ...(cc.length > 0 ? { cc } : {}),
        ...(via ? { via } : {}),
        idempotencyKey: `reply:${messageId}`,
        source: "agent",
        sourceRef: conversationId,
      },
      opts,
    );
  }
  await transactionWithRetry(db, async (tx) => {
    await tx.execute(sql`INSERT INTO conversation_messages (workspace_id, id, conversation_id, inbox_id, direction, kind,
        author_id, text, html, attachments, delivery_id, metadata)
      VALUES (${workspaceId}, ${messageId}, ${conversationId}, ${conversation.inboxId}, 'outbound',
        ${r.private ? "note" : "message"}, ${authorId}, ${r.text}, ${r.html ?? null}, ${JSON.stringify(files)}::jsonb,
        ${delivery?.deliveryId ?? null},
        ${JSON.stringify({ ...(delivery ? { decision: delivery.decision, reason: delivery.reason ?? null } : {}), ...(sentAs ? { replyTarget: sentAs } : {}), ...emailSent })}::jsonb)
      ON CONFLICT DO NOTHING`);
    if (!r.private) {
      await tx.execute(sql`UPDATE conversations SET last_message_at = now(), updated_at = now(),
          first_response_at = COALESCE(first_response_at, now())
        WHERE workspace_id = ${workspaceId} AND id = ${conversationId}`);
    }
    if (r.private) {
      await recordMentions(tx, workspaceId, { conversationId, messageId, authorId, text: r.text });
    } else if (inbox.kind === "api") {
      await queueApiChannelReply(tx, workspaceId, inbox, {
        conversationId,
        messageId,
        customerId: conversation.customerId,
        authorId,
        text: r.text,
        html: r.html ?? null,
      });
    }
    const news = { conversationId, messageId, direction: "outbound", private: r.private };
    await publishInTransaction(tx, conversationsTopic(workspaceId), { type: "message.created", ...news });
    if (!r.private) await emitWebhookEvent(tx, workspaceId, "message.created", { ...news, text: r.text });
  });
  return { messageId, ...(delivery ? { delivery } : {}) };
}

/**
 * Who an email reply copies: the addresses given, lower case and once each, without the
 * customer (the reply's recipient already). Subject and copies are for email replies only, and
 * an address the workspace suppressed (a bounce, a complaint, an erased person) is refused,
 * as the Gate refuses it for anyone it sends to.
 */
async function copiedOn(
  db: Db,
  workspaceId: string,
  conversation: { channel: string | null; contactAddress: string | null },
  r: z.output<typeof ReplyInput>,
): Promise<string[]> {
  if (r.subject === undefined && r.cc === undefined) return [];
  if (r.private || conversation.channel !== "email") {
    throw new AppError(
      "conversations.invalid_reply",
      `${r.subject !== undefined ? "subject" : "cc"}: only an email reply has a subject and copies; ${r.private ? "a private note" : `this conversation is on ${conversation.channel ?? "no channel"}`}.`,
    );
  }
  const customer = conversation.contactAddress?.toLowerCase();
  const cc = [...new Set((r.cc ?? []).map((a) => a.toLowerCase()))].filter((a) => a !== customer);
  if (cc.length === 0) return cc;
  const [suppressed] = await suppressionsFor(
    db,
    workspaceId,
    cc.map((address) => ({ channel: "email" as const, address })),
  );
  if (suppressed) {
    const address = cc.find((a) => addressHash("email", a) === suppressed.addressHash) ?? "an address";
    throw new AppError(
      "conversations.cc_suppressed",
      `cc: ${address} cannot be copied: it is suppressed for email (${suppressed.reason}). Remove it from the copies.`,
      { address, reason: suppressed.reason },
    );
  }
  return cc;
}

// inboxes that send replies through their own provider or sender (a page, an account, the
// widget, the number the customer wrote to)
const OWN_PROVIDER = new Set<InboxKind>(["messenger", "instagram", "x", "chat", "sms", "whatsapp"]);
// where a reply may go out in public or in private
const SOCIAL = new Set<InboxKind>(["messenger", "instagram", "x"]);

/**
 * What a reply answers on its channel. Inbound messages that can be answered in public say so
 * in `metadata.replyTo` (`{ kind: "comment" | "post", id }`); the latest one decides, so a reply
 * lands under the comment or tweet the customer wrote last. Everything else is a direct message.
 */
async function replyTarget(
  db: Db,
  workspaceId: string,
  conversationId: string,
  kind: InboxKind,
  visibility: "public" | "private",
): Promise<ReplyVia["target"]> {
  if (kind === "chat") return { kind: "chat" };
  const [row] = await rows<{ replyTo: unknown }>(
    db,
    sql`SELECT metadata->'replyTo' AS "replyTo" FROM conversation_messages
        WHERE workspace_id = ${workspaceId} AND conversation_id = ${conversationId}
          AND direction = 'inbound' AND kind = 'message'
        ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  const to = InboundReplyTo.safeParse(row?.replyTo);
  if (!to.success) return { kind: "dm" };
  if (to.data.kind === "comment") {
    return { kind: visibility === "private" ? "comment_private" : "comment_public", id: to.data.id };
  }
  return visibility === "private" ? { kind: "dm" } : { kind: "post", id: to.data.id };
}

/** How an inbound comment or public post says it can be answered where it was written. */
export const InboundReplyTo = z.object({ kind: z.enum(["comment", "post"]), id: z.string().min(1).max(256) });
export type InboundReplyTo = z.infer<typeof InboundReplyTo>;

type CustomerEmail = {
  text: string;
  at: string;
  from: string;
  messageId: string | null;
  references: string[];
};

const MESSAGE_ID = /^<[^<>\s]+>$/;

/** The customer's latest email in the conversation: what a reply answers and quotes. */
async function lastCustomerEmail(
  db: Db,
  workspaceId: string,
  conversationId: string,
): Promise<CustomerEmail | undefined> {
  const [row] = await rows<{ text: string; at: string; metadata: Record<string, unknown> }>(
    db,
    sql`SELECT text, to_json(created_at)#>>'{}' AS at, metadata FROM conversation_messages
        WHERE workspace_id = ${workspaceId} AND conversation_id = ${conversationId}
          AND direction = 'inbound' AND kind = 'message'
        ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  if (!row) return undefined;
  const m = row.metadata;
  const messageId = typeof m.messageId === "string" && MESSAGE_ID.test(m.messageId) ? m.messageId : null;
  const references = Array.isArray(m.references)
    ? m.references.filter((r): r is string => typeof r === "string" && MESSAGE_ID.test(r)).slice(-19)
    : [];
  const sender = m.from;
  const address =
    sender && typeof sender === "object" && "address" in sender && typeof sender.address === "string"
      ? sender.address
      : undefined;
  const name =
    sender && typeof sender === "object" && "name" in sender && typeof sender.name === "string"
      ? sender.name
      : "";
  const from = address ? (name ? `${name} <${address}>` : address) : "you";
  return { text: row.text, at: row.at, from, messageId, references };
}

/** The quoted history under a reply, as mail clients write it ("On …, … wrote:" and "> " lines). */
function quoteData(email: CustomerEmail): { quoteHeader: string; quoted: string; quotedText: string } {
  const lines = email.text.trimEnd().split(/\r?\n/).slice(0, 200);
  return {
    quoteHeader: `On ${new Date(email.at).toUTCString()}, ${email.from} wrote:`,
    quoted: lines.map((l) => `> ${l}`).join("\n"),
    quotedText: lines.join("\n"),
  };
}

/**
 * The stored files a reply names, each checked to be one of this workspace's: an unknown key is
 * `conversations.attachment_not_found`, before anything is sent or written.
 */
async function replyFiles(
  store: AttachmentStore | undefined,
  workspaceId: string,
  refs: ReadonlyArray<{ key: string }>,
): Promise<Attachment[]> {
  if (refs.length === 0) return [];
  const files = store ?? attachmentStoreFor(loadConfig().dataDir);
  const found: Attachment[] = [];
  for (const { key } of refs) {
    const file = isAttachmentKey(key) ? await files.get(workspaceId, key) : undefined;
    if (!file) {
      throw new AppError(
        "conversations.attachment_not_found",
        `No uploaded file with the key "${key}" in this workspace: upload it with POST /api/v1/attachments first.`,
        { key },
      );
    }
    found.push({
      key,
      name: file.name ?? "attachment",
      contentType: file.contentType,
      size: file.data.length,
    });
  }
  return found;
}

/**
 * How a reply's files travel on its channel: attached to an email, as media Twilio fetches by
 * a signed public link (SMS, WhatsApp), or as signed links under the text where the channel
 * cannot attach them (Messenger, Instagram, X, the chat widget).
 */
async function carryFiles(
  db: Db,
  workspaceId: string,
  channel: string,
  files: Attachment[],
  text: string,
  publicUrl: string,
): Promise<{ text: string; attachments?: Attachment[]; mediaUrls?: string[] }> {
  if (files.length === 0) return { text };
  if (channel === "email") return { text, attachments: files };
  const urls = await Promise.all(
    files.map((f) => signedAttachmentUrl(db, workspaceId, f.key, { publicUrl })),
  );
  if (channel === "sms" || channel === "whatsapp") return { text, mediaUrls: urls };
  return { text: `${text}\n\n${files.map((f, i) => `${f.name}: ${urls[i]}`).join("\n")}` };
}
