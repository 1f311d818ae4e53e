import * as z from "zod/mini";

// The REST API as the inbox reads it: same origin, the session cookie rides along, and the
// browser adds the Origin header that requireAuth checks on state-changing calls.

export const Me = z.object({
  user: z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.string(),
    locale: z.optional(z.nullable(z.string())),
  }),
  workspace: z.object({ id: z.string(), name: z.string(), slug: z.optional(z.string()) }),
  /** The server's public address: webhook URLs for providers start with it. */
  publicUrl: z.optional(z.string()),
});
export type Me = z.infer<typeof Me>;

/** Whether a role may open the settings (the API refuses the rest anyway). */
export function isAdmin(me: Me): boolean {
  return me.user.role === "owner" || me.user.role === "admin";
}

export const LastMessage = z.object({
  preview: z.string(),
  direction: z.enum(["inbound", "outbound"]),
  kind: z.string(),
  at: z.string(),
});

/** The post a comment conversation belongs to; its text is the brand's post, shown as text only. */
export const Post = z.object({
  id: z.string(),
  text: z.nullable(z.string()),
  permalinkUrl: z.nullable(z.string()),
  /** Meta's picture URL: it expires, so a failed load hides the picture. */
  mediaUrl: z.nullable(z.string()),
  postedAt: z.nullable(z.string()),
  /** ready, pending (being read), unavailable (Meta would not give it). */
  status: z.string(),
});
export type Post = z.infer<typeof Post>;

export const Conversation = z.object({
  id: z.string(),
  number: z.number(),
  inboxId: z.string(),
  customerId: z.string(),
  channel: z.nullable(z.string()),
  contactAddress: z.nullable(z.string()),
  subject: z.nullable(z.string()),
  status: z.string(),
  snoozedUntil: z.optional(z.nullable(z.string())),
  priority: z.optional(z.string()),
  assigneeId: z.nullable(z.string()),
  teamId: z.optional(z.nullable(z.string())),
  labels: z.optional(z.array(z.string())),
  mergedIntoId: z.optional(z.nullable(z.string())),
  lastMessageAt: z.string(),
  lastCustomerMessageAt: z.optional(z.nullable(z.string())),
  createdAt: z.optional(z.string()),
  /** List rows (and one conversation) for a signed-in agent. */
  customerName: z.optional(z.nullable(z.string())),
  lastMessage: z.optional(z.nullable(LastMessage)),
  unread: z.optional(z.boolean()),
  /** One conversation (not list rows): the post of a comment conversation, null for the rest. */
  post: z.optional(z.nullable(Post)),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationPage = z.object({
  data: z.array(Conversation),
  nextCursor: z.nullable(z.string()),
});
export type ConversationPage = z.infer<typeof ConversationPage>;

export const Attachment = z.object({
  key: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number(),
  url: z.optional(z.string()),
});
export type Attachment = z.infer<typeof Attachment>;

export const Message = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: z.enum(["inbound", "outbound"]),
  kind: z.string(),
  authorId: z.nullable(z.string()),
  text: z.string(),
  html: z.optional(z.nullable(z.string())),
  attachments: z.optional(z.array(Attachment)),
  deliveryId: z.optional(z.nullable(z.string())),
  deliveryState: z.nullable(z.string()),
  /** Why the delivery failed or bounced, in the provider's words. */
  deliveryError: z.optional(z.nullable(z.string())),
  metadata: z.optional(z.record(z.string(), z.unknown())),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

export const MessagePage = z.object({
  data: z.array(Message),
  nextCursor: z.nullable(z.string()),
  /** Reading backward: the `before` of the page of earlier messages, null at the first message. */
  previousCursor: z.optional(z.nullable(z.string())),
});

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** An API refusal, with the server's stable code and its message for the agent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where a signed-out agent goes: the sign-in page, which brings them back here. */
export function signInUrl(): string {
  const here = typeof location === "undefined" ? "/inbox/" : location.pathname + location.search;
  return `/login?next=${encodeURIComponent(here.startsWith("/inbox") ? here : "/inbox/")}`;
}

/** Calls the API and parses the answer; a lost session sends the agent to sign in. */
export async function api<T>(
  schema: z.ZodMiniType<T>,
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  // a FormData body (a file upload) goes as multipart, with the boundary the browser sets
  const form = typeof FormData !== "undefined" && init.body instanceof FormData;
  const json = init.body !== undefined && !form;
  const res = await fetch(path, {
    method: init.method ?? "GET",
    credentials: "same-origin",
    headers: { accept: "application/json", ...(json ? { "content-type": "application/json" } : {}) },
    ...(init.body === undefined ? {} : { body: form ? (init.body as FormData) : JSON.stringify(init.body) }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  if (res.status === 401) {
    window.location.assign(signInUrl());
    throw new ApiError(401, "auth.unauthorized", "Signed out");
  }
  const body: unknown = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = ErrorBody.safeParse(body);
    throw err.success
      ? new ApiError(res.status, err.data.error.code, err.data.error.message)
      : new ApiError(res.status, "http.error", `The server answered ${res.status}.`);
  }
  return schema.parse(body);
}

/** For calls whose answer is empty (204) or not needed. */
export const NoContent = z.unknown();
