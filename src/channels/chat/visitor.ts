import { getMessagingSettings } from "../../consent/settings.ts";
import {
  type Conversation,
  type ConversationRow,
  getConversation,
} from "../../conversations/conversations.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { type Customer, findByIdentifier } from "../../profiles/customers.ts";
import { type ChatInbox, getChatInbox } from "./settings.ts";
import type { VisitorAddress } from "./topics.ts";
import { peekVisitorToken, type VisitorClaims, verifyVisitorToken } from "./visitor-token.ts";

/** A widget visitor, as a verified token and the live profile behind it make them. */
export type Visitor = {
  workspaceId: string;
  chat: ChatInbox;
  /** The live customer (after any merge), found by the visitor's identity on every request. */
  customer: Customer;
  anonymousId: string;
  /** The brand's user id, only when proven by the identity hash. */
  userId: string | undefined;
  /** Where replies reach this visitor: the browser's anonymous id, then the proven user id. */
  addresses: VisitorAddress[];
  claims: VisitorClaims;
};

const NO_PHONES = "US";

const unauthorized = (reason: string) =>
  new AppError(
    "chat.token_unauthorized",
    `The visitor token is ${reason}: start a new session with POST /widget/v1/sessions.`,
    { reason },
  );

/**
 * Checks a visitor token (signature, expiry, inbox) and finds the live customer behind it.
 * Every failure is one 401 (`chat.token_unauthorized`), so a forged token learns nothing.
 */
export async function authenticateVisitor(db: Db, token: string | undefined): Promise<Visitor> {
  if (!token) throw unauthorized("missing");
  const peek = peekVisitorToken(token);
  if (!peek) throw unauthorized("malformed");
  const chat = await getChatInbox(db, peek.workspaceId, peek.inboxId).catch((err: unknown) => {
    throw isAppError(err) ? unauthorized("not for a chat inbox") : err;
  });
  const settings = await getMessagingSettings(db, peek.workspaceId);
  const check = verifyVisitorToken(settings.linkSecret, token);
  if (!check.ok)
    throw unauthorized(check.reason === "bad_signature" ? "not signed by Rapport" : check.reason);
  const c = check.claims;
  // merges move identities: the profile holding the visitor's identity now is the one that counts
  // (the country only matters for phone numbers, and none is looked up here)
  const customer = c.userId
    ? await findByIdentifier(db, c.workspaceId, "user_id", c.userId, NO_PHONES)
    : await findByIdentifier(db, c.workspaceId, "anonymous_id", c.anonymousId, NO_PHONES);
  if (!customer) throw unauthorized("for a visitor no longer known");
  const addresses: VisitorAddress[] = [{ kind: "anonymous_id", value: c.anonymousId }];
  if (c.userId) addresses.push({ kind: "user_id", value: c.userId });
  return {
    workspaceId: c.workspaceId,
    chat,
    customer,
    anonymousId: c.anonymousId,
    userId: c.userId,
    addresses,
    claims: c,
  };
}

/** Where this visitor's messages go from: the proven user id, else the browser's anonymous id. */
export function primaryAddress(visitor: Visitor): VisitorAddress {
  return visitor.userId
    ? { kind: "user_id", value: visitor.userId }
    : { kind: "anonymous_id", value: visitor.anonymousId };
}

/**
 * Whether the visitor may read a conversation: it is on this chat inbox, belongs to their live
 * profile, and was written from one of their addresses. An unproven visitor never sees a
 * conversation held under a user id, even when a typed-in email joined them to that account.
 */
export function canSee(visitor: Visitor, conversation: ConversationRow): boolean {
  if (conversation.inboxId !== visitor.chat.inbox.id) return false;
  if (conversation.customerId !== visitor.customer.id) return false;
  const contact = conversation.contactAddress;
  if (contact === null) return false;
  if (visitor.userId !== undefined && contact === visitor.userId) return true;
  if (contact !== visitor.anonymousId) return false;
  // an anonymous id chosen to equal an account's user id opens nothing of that account
  return (
    visitor.userId !== undefined ||
    !visitor.customer.identities.some((i) => i.kind === "user_id" && i.value === contact)
  );
}

/** A conversation the visitor may read; any other is `chat.conversation_not_found`. */
export async function visibleConversation(
  db: Db,
  visitor: Visitor,
  conversationId: string,
): Promise<Conversation> {
  const notFound = new AppError("chat.conversation_not_found", "No conversation of yours with that id.", {
    conversationId,
  });
  const conversation = await getConversation(db, visitor.workspaceId, conversationId).catch(
    (err: unknown) => {
      throw isAppError(err) ? notFound : err;
    },
  );
  if (!canSee(visitor, conversation)) throw notFound;
  return conversation;
}
