import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { type AttachmentStore, attachmentPath } from "../../conversations/attachments.ts";
import { receiveInbound } from "../../conversations/inbound.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import type { Attachment } from "../../conversations/tables.ts";
import { type Db, rows } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { findByIdentifier } from "../../profiles/customers.ts";
import { autoReplyReason } from "./auto-reply.ts";
import { isBounce } from "./bounce.ts";
import { handleBounce } from "./bounce-ingest.ts";
import { type ParsedEmail, parseEmail } from "./parse.ts";
import { EmailInboxConfig } from "./reply-to.ts";
import {
  conversationByMessageIds,
  conversationByReplyAddress,
  conversationsOfCustomer,
  firstEmailInbox,
  inboxesByAddress,
  sentEmailByMessageIds,
} from "./routing.ts";
import { sanitizeEmailHtml } from "./sanitize-html.ts";
import { normalizeSubject } from "./subject.ts";

/** How long a subject alone still threads a customer's email into their conversation. */
export const SUBJECT_THREAD_DAYS = 30;

export type IngestOptions = {
  /** The SMTP envelope, when the mail came over SMTP: RCPT TO routes before the headers do. */
  envelope?: { from?: string | undefined; to: string[] } | undefined;
  defaultCountry: string;
  store: AttachmentStore;
  /** The inbox a relay posted to (the HTTP endpoint); needs `workspaceId`. */
  inboxId?: string | undefined;
  logger?: Pick<Logger, "info" | "warn"> | undefined;
};

export type ThreadedBy = "references" | "sent_email" | "reply_address" | "subject" | "new";

export type IngestResult =
  | {
      kind: "message";
      workspaceId: string;
      inboxId: string;
      conversationId: string;
      messageId: string;
      customerId: string;
      duplicate: boolean;
      opened: boolean;
      autoReply: boolean;
      threadedBy: ThreadedBy;
    }
  | {
      kind: "bounce";
      recorded: boolean;
      workspaceId: string | undefined;
      originalMessageId: string | undefined;
    }
  | { kind: "dropped"; reason: "auto_reply_without_conversation" };

type Thread = { workspaceId: string; inboxId: string; threadKey: string; by: ThreadedBy };

/**
 * Takes in one raw email (from the SMTP listener or a relay's POST): parses it, turns a bounce
 * into delivery-ledger news, finds the inbox, the thread and the customer, stores attachments
 * and sanitised HTML, and appends the message through `receiveInbound`. An automatic reply is
 * stored flagged and does not reopen its conversation. `workspaceId` is undefined when the
 * caller cannot know it (SMTP): the recipients decide.
 */
export async function ingestRawEmail(
  db: Db,
  workspaceId: string | undefined,
  raw: Buffer,
  opts: IngestOptions,
): Promise<IngestResult> {
  const mail = await parseEmail(raw);
  if (isBounce(mail)) return handleBounce(db, workspaceId, mail, opts.logger);
  const sender = mail.from?.address;
  if (!sender) {
    throw new AppError("conversations.email_no_sender", "The email has no From address to answer to.");
  }
  const recipients = [
    ...new Set([...(opts.envelope?.to ?? []).map((a) => a.toLowerCase()), ...mail.recipients]),
  ];
  const thread = await findThread(db, workspaceId, mail, recipients, opts);
  const autoReason = autoReplyReason(mail.header, mail.subject);
  // is there a conversation this automatic reply could belong to?
  const before = await rows<{ id: string }>(
    db,
    sql`SELECT id::text AS id FROM conversations WHERE workspace_id = ${thread.workspaceId}
          AND inbox_id = ${thread.inboxId} AND thread_key = ${thread.threadKey} LIMIT 1`,
  );
  if (autoReason !== undefined && before.length === 0) {
    // an out-of-office answer to nothing a person is handling: opening a conversation for it is noise
    opts.logger?.info(
      { messageId: mail.messageId, reason: autoReason },
      "inbound email: an automatic reply without a conversation was dropped",
    );
    return { kind: "dropped", reason: "auto_reply_without_conversation" };
  }
  const duplicate = await alreadyStored(db, thread, mail.messageId);
  const stored = duplicate
    ? { attachments: [], inline: {}, skipped: [] }
    : await storeAttachments(thread, mail, opts);
  const result = await receiveInbound(
    db,
    thread.workspaceId,
    {
      inboxId: thread.inboxId,
      from: [{ kind: "email", value: sender }],
      contactAddress: sender.toLowerCase(),
      providerMessageId: mail.messageId,
      text: mail.text,
      html:
        mail.html === undefined
          ? undefined
          : sanitizeEmailHtml(mail.html, { cid: servedInline(stored.inline) }),
      attachments: stored.attachments,
      threadKey: thread.threadKey,
      subject: mail.subject,
      metadata: {
        messageId: mail.messageId,
        inReplyTo: mail.inReplyTo,
        references: mail.references,
        subject: mail.subject ?? null,
        from: mail.from,
        to: recipients,
        // who else was in the thread, as a reply to all would keep them (not the brand's own addresses)
        cc: await othersInThread(db, thread, mail, sender),
        date: mail.date?.toISOString() ?? null,
        threadedBy: thread.by,
        ...(Object.keys(stored.inline).length > 0 ? { inlineImages: stored.inline } : {}),
        ...(stored.skipped.length > 0 ? { skippedAttachments: stored.skipped } : {}),
        ...(autoReason !== undefined ? { autoReply: true, autoReplyReason: autoReason } : {}),
      },
      // an automatic reply is kept, but reopens nothing and tells nobody
      ...(autoReason !== undefined ? { reopen: false, silent: true } : {}),
    },
    { defaultCountry: opts.defaultCountry },
  );
  return {
    kind: "message",
    workspaceId: thread.workspaceId,
    inboxId: thread.inboxId,
    conversationId: result.conversationId,
    messageId: result.messageId,
    customerId: result.customerId,
    duplicate: result.duplicate,
    opened: result.opened,
    autoReply: autoReason !== undefined,
    threadedBy: thread.by,
  };
}

/**
 * The inbox and thread of an email, in the order: a Message-ID it answers (an email
 * stored here, or any email Rapport sent), the `reply+<token>` address, the same subject from
 * the same sender within 30 days, else a new thread keyed by its own Message-ID.
 */
async function findThread(
  db: Db,
  workspaceId: string | undefined,
  mail: ParsedEmail,
  recipients: string[],
  opts: IngestOptions,
): Promise<Thread> {
  // the nearest ancestor first: In-Reply-To, then References from the newest
  const ancestors = [...new Set([...mail.inReplyTo, ...[...mail.references].reverse()])].filter(
    (id) => id !== mail.messageId,
  );
  let inbox: { workspaceId: string; inboxId: string } | undefined;
  if (opts.inboxId !== undefined) {
    if (workspaceId === undefined) throw new Error("ingestRawEmail: an inboxId needs its workspaceId");
    const found = await getInbox(db, workspaceId, opts.inboxId);
    if (found.kind !== "email") {
      throw new AppError(
        "conversations.not_an_email_inbox",
        `Inbox "${found.name}" is a ${found.kind} inbox, not an email inbox.`,
      );
    }
    inbox = { workspaceId, inboxId: found.id };
  } else {
    inbox = (await inboxesByAddress(db, workspaceId, recipients))[0];
  }
  const replyTo = await conversationByReplyAddress(db, inbox?.workspaceId ?? workspaceId, recipients);
  const sent = await sentEmailByMessageIds(db, inbox?.workspaceId ?? workspaceId, ancestors);
  if (!inbox && replyTo) inbox = replyTo;
  if (!inbox && sent) inbox = await firstEmailInbox(db, sent.workspaceId);
  if (!inbox) {
    throw new AppError(
      "conversations.email_unroutable",
      "No email inbox has any of this email's recipient addresses.",
      { recipients: recipients.slice(0, 20) },
    );
  }
  const known = await conversationByMessageIds(db, inbox.workspaceId, inbox.inboxId, ancestors);
  if (known) return { ...inbox, threadKey: known.threadKey ?? mail.messageId, by: "references" };
  if (sent && sent.workspaceId === inbox.workspaceId) {
    return { ...inbox, threadKey: sent.providerMessageId, by: "sent_email" };
  }
  if (replyTo && replyTo.workspaceId === inbox.workspaceId) {
    return {
      workspaceId: replyTo.workspaceId,
      inboxId: replyTo.inboxId,
      threadKey: replyTo.threadKey ?? mail.messageId,
      by: "reply_address",
    };
  }
  const bySubject = await threadBySubject(db, inbox, mail, opts.defaultCountry);
  if (bySubject !== undefined) return { ...inbox, threadKey: bySubject, by: "subject" };
  return { ...inbox, threadKey: mail.messageId, by: "new" };
}

async function threadBySubject(
  db: Db,
  inbox: { workspaceId: string; inboxId: string },
  mail: ParsedEmail,
  defaultCountry: string,
): Promise<string | undefined> {
  const subject = normalizeSubject(mail.subject);
  if (subject.length === 0 || !mail.from) return undefined;
  let customer: Awaited<ReturnType<typeof findByIdentifier>>;
  try {
    customer = await findByIdentifier(db, inbox.workspaceId, "email", mail.from.address, defaultCountry);
  } catch (err) {
    // a sender address the profiles refuse is reported by receiveInbound, with its reason
    if (isAppError(err)) return undefined;
    throw err;
  }
  if (!customer) return undefined;
  const recent = await conversationsOfCustomer(
    db,
    inbox.workspaceId,
    inbox.inboxId,
    customer.id,
    SUBJECT_THREAD_DAYS,
  );
  const hit = recent.find((c) => c.threadKey !== null && normalizeSubject(c.subject ?? "") === subject);
  return hit?.threadKey ?? undefined;
}

/**
 * Where an inline part is served, by its Content-ID: the exact id first, then ignoring case
 * (some clients change the case of the reference, never of the part).
 */
function servedInline(inline: Record<string, string>): (contentId: string) => string | undefined {
  const exact = new Map(Object.entries(inline));
  const folded = new Map(Object.entries(inline).map(([cid, key]) => [cid.toLowerCase(), key]));
  return (contentId) => {
    const key = exact.get(contentId) ?? folded.get(contentId.toLowerCase());
    return key === undefined ? undefined : attachmentPath(key);
  };
}

async function alreadyStored(db: Db, thread: Thread, messageId: string): Promise<boolean> {
  const found = await rows<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM conversation_messages
        WHERE workspace_id = ${thread.workspaceId} AND inbox_id = ${thread.inboxId} AND provider_message_id = ${messageId}`,
  );
  return found.length > 0;
}

async function storeAttachments(
  thread: Thread,
  mail: ParsedEmail,
  opts: IngestOptions,
): Promise<{
  attachments: Attachment[];
  inline: Record<string, string>;
  skipped: Array<{ name: string; reason: string }>;
}> {
  const attachments: Attachment[] = [];
  const inline: Record<string, string> = {};
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const a of mail.attachments) {
    try {
      const saved = await opts.store.put(thread.workspaceId, {
        name: a.filename,
        contentType: a.contentType,
        data: a.content,
      });
      attachments.push(saved);
      if (a.cid) inline[a.cid] = saved.key;
    } catch (err) {
      // one file over the attachment limit must not lose the customer's words
      if (!isAppError(err)) throw err;
      skipped.push({ name: a.filename, reason: err.code });
    }
  }
  return { attachments, inline, skipped };
}

/**
 * The people besides the sender and the brand that an email was written to (its To and Cc):
 * what an agent's reply keeps in copy, as "reply all" would. The workspace's inbox addresses
 * and the inbox's `reply+` domain are the brand's own, never copied.
 */
async function othersInThread(db: Db, thread: Thread, mail: ParsedEmail, sender: string): Promise<string[]> {
  const candidates = [...new Set([...mail.to, ...mail.cc])].filter((a) => a !== sender.toLowerCase());
  if (candidates.length === 0) return [];
  const own = new Set((await inboxesByAddress(db, thread.workspaceId, candidates)).map((i) => i.address));
  const inbox = await getInbox(db, thread.workspaceId, thread.inboxId);
  own.add(inbox.address?.toLowerCase() ?? "");
  const replyDomain = EmailInboxConfig.safeParse(inbox.config).data?.replyDomain;
  return candidates
    .filter((a) => !own.has(a) && (replyDomain === undefined || !a.endsWith(`@${replyDomain}`)))
    .slice(0, 20);
}
