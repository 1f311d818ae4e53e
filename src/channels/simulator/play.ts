import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import type { AttachmentStore } from "../../conversations/attachments.ts";
import { findByProviderId } from "../../conversations/inbound.ts";
import { getInbox, type Inbox, listInboxes } from "../../conversations/inboxes.ts";
import type { Db } from "../../db/client.ts";
import { AppError, isAppError } from "../../errors.ts";
import { normalizeEmail, normalizePhone } from "../../profiles/identifiers.ts";
import { AnonymousId } from "../chat/visitor-token.ts";
import { ingestRawEmail } from "../email/ingest.ts";
import { MetaInboxConfig } from "../meta/config.ts";
import { metaSignature } from "../meta/signature.ts";
import { TwilioInboxConfig } from "../twilio/config.ts";
import { XInboxConfig, xBrandUserId } from "../x/config.ts";
import { xSignature } from "../x/signature.ts";
import { metaBody, rawEmail, twilioMessage, xBody } from "./payloads.ts";

/** What the customer's address is on each channel the simulator plays. */
export const ADDRESS_KINDS = {
  sms: "phone",
  whatsapp: "phone",
  email: "email",
  messenger: "psid",
  instagram: "psid",
  x: "handle",
  chat: "visitor",
} as const;
type PlayableKind = keyof typeof ADDRESS_KINDS;

const EXAMPLES: Record<PlayableKind, string> = {
  sms: "+14155550123",
  whatsapp: "+33612345678",
  email: "ada@example.com",
  messenger: "6543210987654321",
  instagram: "1234567890123456",
  x: "pat_listens",
  chat: "visitor-7f3a9c21",
};

/** A customer's message for the simulator to play through an inbox's real webhook. */
export const SimulatedMessage = z.object({
  inboxId: z.string().min(1).max(64),
  from: z.object({
    name: z.string().trim().min(1).max(120).optional(),
    address: z.string().trim().min(1).max(320),
  }),
  text: z.string().max(4000),
  /** Email: the subject (a new thread's; a reply's is "Re: …" of it). */
  subject: z.string().trim().max(300).optional(),
  /** Email: the Message-ID (`<…>`) the customer answers, to thread the reply. */
  inReplyTo: z
    .string()
    .regex(/^<[^<>\s]+>$/, "must be a <message-id>")
    .optional(),
  /** Messenger, Instagram: comment under this post (or media); X: answer this tweet in public. */
  postId: z
    .string()
    .regex(/^[0-9_]{1,64}$/, "must be a numeric post, media or tweet id")
    .optional(),
  /** X: a public tweet mentioning the brand instead of a DM. */
  mention: z.boolean().optional(),
});
export type SimulatedMessage = z.input<typeof SimulatedMessage>;

/** An inbox the simulator can play on, and the sender address it needs. */
export type SimulatorInbox = {
  id: string;
  name: string;
  kind: PlayableKind;
  channel: string | null;
  address: string | null;
  addressKind: (typeof ADDRESS_KINDS)[PlayableKind];
  example: string;
  /** Whether a message can be a comment on a post (`postId`), an email reply (`inReplyTo`)… */
  supports: { subject: boolean; inReplyTo: boolean; postId: boolean; mention: boolean };
};

/** The HTTP side: the server's own routes, called in-process as a provider would call them. */
export type SimulatorDeps = {
  db: Db;
  inject: (request: {
    method: "POST";
    url: string;
    headers: Record<string, string>;
    payload: string;
  }) => Promise<{ statusCode: number; body: string }>;
  publicUrl: string;
  defaultCountry: string;
  store: AttachmentStore;
  now?: Date;
};

export type SimulatedResult = {
  conversationId: string;
  messageId: string;
  inboxId: string;
  channel: string;
  address: string;
};

/** Whether the simulator can sign as this inbox's provider: its kind and its webhook secrets. */
function playable(inbox: Inbox): inbox is Inbox & { kind: PlayableKind } {
  switch (inbox.kind) {
    case "sms":
    case "whatsapp":
      return TwilioInboxConfig.safeParse(inbox.config).success && (inbox.address ?? "") !== "";
    case "messenger":
    case "instagram":
      return MetaInboxConfig.safeParse(inbox.config).success;
    case "x": {
      const config = XInboxConfig.safeParse(inbox.config);
      return config.success && (config.data.userId !== undefined || /^\d+$/.test(inbox.address ?? ""));
    }
    case "email":
    case "chat":
      return true;
    default:
      return false;
  }
}

/** The workspace's inboxes the simulator can play on. */
export async function simulatorInboxes(db: Db, workspaceId: string): Promise<SimulatorInbox[]> {
  return (await listInboxes(db, workspaceId)).filter(playable).map((inbox) => ({
    id: inbox.id,
    name: inbox.name,
    kind: inbox.kind,
    channel: inbox.channel,
    address: inbox.address,
    addressKind: ADDRESS_KINDS[inbox.kind],
    example: EXAMPLES[inbox.kind],
    supports: {
      subject: inbox.kind === "email",
      inReplyTo: inbox.kind === "email",
      postId: inbox.kind === "messenger" || inbox.kind === "instagram" || inbox.kind === "x",
      mention: inbox.kind === "x",
    },
  }));
}

function invalid(code: string, message: string, details?: Record<string, unknown>): AppError {
  return new AppError(`simulator.${code}`, message, details);
}

/** The sender's address, checked and normalised for the inbox's channel. */
function senderAddress(kind: PlayableKind, address: string, defaultCountry: string): string {
  const bad = (what: string) =>
    invalid("invalid_address", `from.address "${address}" is not ${what}; for example ${EXAMPLES[kind]}.`, {
      addressKind: ADDRESS_KINDS[kind],
    });
  switch (ADDRESS_KINDS[kind]) {
    case "phone":
      try {
        return normalizePhone(address, defaultCountry);
      } catch (err) {
        if (isAppError(err)) throw bad("a phone number");
        throw err;
      }
    case "email":
      if (!z.email().safeParse(address).success) throw bad("an email address");
      return normalizeEmail(address);
    case "psid":
      if (!/^\d{5,32}$/.test(address)) throw bad("a page-scoped id (digits)");
      return address;
    case "handle": {
      const handle = address.replace(/^@/, "");
      if (!/^[A-Za-z0-9_]{1,15}$/.test(handle)) throw bad("an X handle (letters, digits, _; 15 at most)");
      return handle;
    }
    case "visitor":
      if (z.email().safeParse(address).success) return normalizeEmail(address);
      if (!AnonymousId.safeParse(address).success) throw bad("a visitor id (8-64 letters, digits, . _ : -)");
      return address;
  }
}

/** Reads a failed webhook answer back into the error it carried. */
function fromAnswer(answer: { statusCode: number; body: string }): AppError {
  const parsed = z
    .object({ error: z.object({ code: z.string(), message: z.string() }) })
    .safeParse(safeJson(answer.body));
  if (parsed.success) return new AppError(parsed.data.error.code, parsed.data.error.message);
  return new AppError("simulator.webhook_failed", `The inbox's webhook answered ${answer.statusCode}.`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Plays a customer writing to one of the workspace's inboxes, through the inbox's real inbound
 * path: a Twilio post signed with the inbox's auth token, a Meta or X webhook signed with its
 * secret, an RFC 5322 email through the email parser, a widget session and message. Signature
 * checks, parsing and threading all run as for real traffic.
 */
export async function playCustomer(
  deps: SimulatorDeps,
  workspaceId: string,
  input: unknown,
): Promise<SimulatedResult> {
  const parsed = SimulatedMessage.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid("invalid_message", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "is invalid"}`);
  }
  const m = parsed.data;
  const text = m.text.trim();
  if (text.length === 0) throw invalid("empty_text", "text is empty: write what the customer says.");
  const inbox = await getInbox(deps.db, workspaceId, m.inboxId);
  if (!playable(inbox)) {
    throw invalid(
      "unsupported_inbox",
      `The simulator cannot write to this ${inbox.kind} inbox: it plays SMS, WhatsApp, email, Messenger, Instagram, X and chat inboxes whose webhook secrets are set.`,
      { kind: inbox.kind },
    );
  }
  const address = senderAddress(inbox.kind, m.from.address, deps.defaultCountry);
  const nowMs = (deps.now ?? new Date()).getTime();
  const name = m.from.name;
  const found = async (providerMessageId: string) => {
    const row = await findByProviderId(deps.db, workspaceId, inbox.id, providerMessageId);
    if (!row) {
      throw invalid(
        "not_stored",
        "The inbox took the message in but stored nothing (the channel ignored it).",
      );
    }
    return { conversationId: row.conversationId, messageId: row.messageId };
  };
  const post = async (path: string, headers: Record<string, string>, payload: string) => {
    const answer = await deps.inject({ method: "POST", url: path, headers, payload });
    if (answer.statusCode >= 300) throw fromAnswer(answer);
    return answer;
  };
  const done = (r: { conversationId: string; messageId: string }): SimulatedResult => ({
    ...r,
    inboxId: inbox.id,
    channel: inbox.channel ?? inbox.kind,
    address,
  });
  switch (inbox.kind) {
    case "sms":
    case "whatsapp": {
      const config = TwilioInboxConfig.parse(inbox.config);
      const req = twilioMessage(workspaceId, inbox, config, {
        phone: address,
        name,
        text,
        publicUrl: deps.publicUrl,
      });
      await post(req.path, req.headers, req.payload);
      return done(await found(req.providerMessageId));
    }
    case "messenger":
    case "instagram": {
      const config = MetaInboxConfig.parse(inbox.config);
      const { body, providerMessageId } = metaBody(inbox, {
        contactId: address,
        name,
        text,
        postId: m.postId,
        nowMs,
      });
      const raw = JSON.stringify(body);
      await post(
        `/webhooks/meta/${workspaceId}/inbox/${inbox.id}`,
        { "content-type": "application/json", "x-hub-signature-256": metaSignature(config.appSecret, raw) },
        raw,
      );
      return done(await found(providerMessageId));
    }
    case "x": {
      const config = XInboxConfig.parse(inbox.config);
      const brandId = xBrandUserId(inbox, config);
      const { body, providerMessageId } = xBody(inbox, brandId, {
        handle: address,
        name,
        text,
        postId: m.postId,
        mention: m.mention,
        nowMs,
      });
      const raw = JSON.stringify(body);
      await post(
        `/webhooks/x/${workspaceId}/inbox/${inbox.id}`,
        {
          "content-type": "application/json",
          "x-twitter-webhooks-signature": xSignature(config.consumerSecret, raw),
        },
        raw,
      );
      return done(await found(providerMessageId));
    }
    case "email": {
      const to = inbox.address ?? "support@example.com";
      const { raw } = rawEmail({
        from: address,
        name,
        to,
        subject:
          m.subject || (m.inReplyTo ? "Re: your answer" : text.split("\n")[0]?.slice(0, 80) || "Hello"),
        text,
        inReplyTo: m.inReplyTo,
        now: new Date(nowMs),
      });
      const result = await ingestRawEmail(deps.db, workspaceId, raw, {
        inboxId: inbox.id,
        defaultCountry: deps.defaultCountry,
        store: deps.store,
      });
      if (result.kind !== "message") {
        throw invalid("not_stored", `The email was not stored as a message (${result.kind}).`);
      }
      return done({ conversationId: result.conversationId, messageId: result.messageId });
    }
    case "chat":
      return done(await playChat(deps, workspaceId, inbox, address, name, text));
  }
}

const ChatSession = z.object({ token: z.string() });
const ChatPosted = z.object({ conversationId: z.string(), message: z.object({ id: z.string() }) });

/** A widget visitor: a session (by visitor id, or by email) and one message, as the widget sends them. */
async function playChat(
  deps: SimulatorDeps,
  workspaceId: string,
  inbox: Inbox,
  address: string,
  name: string | undefined,
  text: string,
): Promise<{ conversationId: string; messageId: string }> {
  const email = address.includes("@");
  const session = await deps.inject({
    method: "POST",
    url: "/widget/v1/sessions",
    headers: { "content-type": "application/json" },
    payload: JSON.stringify({
      workspaceId,
      inboxId: inbox.id,
      // a visitor known by email keeps one browser id, so their messages stay one thread
      anonymousId: email ? `sim-${createHash("sha256").update(address).digest("hex").slice(0, 40)}` : address,
      ...(email ? { email: address } : {}),
      ...(name ? { name } : {}),
    }),
  });
  if (session.statusCode >= 300) throw fromAnswer(session);
  const { token } = ChatSession.parse(JSON.parse(session.body));
  const posted = await deps.inject({
    method: "POST",
    url: "/widget/v1/messages",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    payload: JSON.stringify({ text, clientId: randomUUID() }),
  });
  if (posted.statusCode >= 300) throw fromAnswer(posted);
  const r = ChatPosted.parse(JSON.parse(posted.body));
  return { conversationId: r.conversationId, messageId: r.message.id };
}
