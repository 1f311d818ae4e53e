import { createHash } from "node:crypto";
import { z } from "zod";
import { listConversations, listMessages } from "../../conversations/conversations.ts";
import { receiveInbound } from "../../conversations/inbound.ts";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { publishToVisitor, type WidgetMessage } from "./topics.ts";
import { canSee, primaryAddress, type Visitor, visibleConversation } from "./visitor.ts";
import { VisitorSource } from "./visitor-token.ts";

/** The longest message a visitor may send, in characters: a chat line, not a document. */
export const MAX_VISITOR_MESSAGE = 4000;

/** A visitor's message as the widget posts it. */
export const VisitorMessageInput = VisitorSource.extend({
  text: z.string(),
  /** Made by the widget for each message, so a retried post is stored once. */
  clientId: z.uuid(),
});
export type VisitorMessageInput = z.infer<typeof VisitorMessageInput>;

/** A conversation as the widget lists it. */
export type WidgetConversation = {
  id: string;
  status: string;
  createdAt: string;
  lastMessageAt: string;
};

/** How many of a conversation's latest messages the widget shows. */
const HISTORY = 200;
const MAX_PAGES = 10;

// what has left Rapport for the widget: a reply the Gate held or that failed never shows
const SHOWN_STATES = new Set(["sent", "delivered", "opened", "clicked"]);

/**
 * Takes in a visitor's message: it enters like any channel's (`receiveInbound`: the visitor's
 * profile, their conversation on this inbox, agents told live), addressed to the visitor's
 * proven user id or browser id, and is echoed to the visitor's other open tabs.
 */
export async function postVisitorMessage(
  db: Db,
  visitor: Visitor,
  input: VisitorMessageInput,
  opts: { defaultCountry: string },
): Promise<{ conversationId: string; message: WidgetMessage; duplicate: boolean }> {
  const text = input.text.trim();
  if (text.length === 0) {
    throw new AppError("chat.empty_message", "The message is empty: write something before sending.");
  }
  if (text.length > MAX_VISITOR_MESSAGE) {
    throw new AppError(
      "chat.message_too_large",
      `A chat message holds at most ${MAX_VISITOR_MESSAGE} characters; this one has ${text.length}. Split it in several.`,
      { limit: MAX_VISITOR_MESSAGE, length: text.length },
    );
  }
  const from = primaryAddress(visitor);
  const kept = visitor.claims.source ?? {};
  const source = {
    ...((input.pageUrl ?? kept.pageUrl) ? { pageUrl: input.pageUrl ?? kept.pageUrl } : {}),
    ...((input.referrer ?? kept.referrer) ? { referrer: input.referrer ?? kept.referrer } : {}),
    ...((input.utm ?? kept.utm) ? { utm: input.utm ?? kept.utm } : {}),
  };
  // the client's id is scoped by its sender, so nobody can replay into another visitor's thread
  const sender = createHash("sha256").update(`${from.kind}:${from.value}`).digest("hex").slice(0, 16);
  const received = await receiveInbound(
    db,
    visitor.workspaceId,
    {
      inboxId: visitor.chat.inbox.id,
      from: [{ kind: from.kind, value: from.value }],
      contactAddress: from.value,
      providerMessageId: `widget:${sender}:${input.clientId}`,
      text,
      // anonymous and signed-in chats are separate threads: a typed-in email that joins a
      // browser to an account never lets it write into (and so read) that account's chat
      threadKey: from.kind === "user_id" ? `user:${from.value}` : `anon:${from.value}`,
      source,
      metadata: { widget: { pageUrl: source.pageUrl ?? null } },
    },
    { ...opts, inbox: visitor.chat.inbox },
  );
  const message: WidgetMessage = {
    id: received.messageId,
    conversationId: received.conversationId,
    direction: "inbound",
    text,
    deliveryId: null,
    createdAt: new Date().toISOString(),
    clientId: input.clientId,
  };
  if (!received.duplicate) {
    await publishToVisitor(db, visitor.workspaceId, visitor.chat.inbox.id, from, {
      type: "message",
      ...message,
    });
  }
  return { conversationId: received.conversationId, message, duplicate: received.duplicate };
}

/** The visitor's conversations on this inbox, latest activity first. */
export async function visitorConversations(db: Db, visitor: Visitor): Promise<WidgetConversation[]> {
  const page = await listConversations(db, visitor.workspaceId, {
    inboxId: visitor.chat.inbox.id,
    customerId: visitor.customer.id,
    limit: 50,
  });
  return page.data
    .filter((c) => canSee(visitor, c))
    .map((c) => ({ id: c.id, status: c.status, createdAt: c.createdAt, lastMessageAt: c.lastMessageAt }));
}

/**
 * A conversation's messages as the visitor sees them, oldest first: their own and the
 * replies that reached the widget; agents' notes and activities never leave Rapport.
 */
export async function visitorMessages(
  db: Db,
  visitor: Visitor,
  conversationId: string,
): Promise<WidgetMessage[]> {
  await visibleConversation(db, visitor, conversationId);
  // pages come oldest first: walk them (a chat rarely has more than one) and keep the latest
  const all = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await listMessages(db, visitor.workspaceId, conversationId, { limit: 200, after });
    all.push(...page.data);
    if (!page.nextCursor) break;
    after = page.nextCursor;
  }
  return all
    .filter(
      (m) =>
        m.kind === "message" &&
        (m.direction === "inbound" || (m.deliveryState !== null && SHOWN_STATES.has(m.deliveryState))),
    )
    .slice(-HISTORY)
    .map((m) => ({
      id: m.id,
      conversationId,
      direction: m.direction,
      text: m.text,
      deliveryId: m.deliveryId,
      createdAt: new Date(m.createdAt).toISOString(),
    }));
}
