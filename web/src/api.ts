import * as z from "zod/mini";

// The REST API as the inbox reads it: same origin, the session cookie rides along, and the
// browser adds the Origin header that requireAuth checks on state-changing calls.

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.string() }),
  workspace: z.object({ id: z.string(), name: z.string() }),
});
export type Me = z.infer<typeof Me>;

export const Conversation = z.object({
  id: z.string(),
  number: z.number(),
  inboxId: z.string(),
  customerId: z.string(),
  channel: z.nullable(z.string()),
  contactAddress: z.nullable(z.string()),
  subject: z.nullable(z.string()),
  status: z.string(),
  assigneeId: z.nullable(z.string()),
  lastMessageAt: z.string(),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationPage = z.object({
  data: z.array(Conversation),
  nextCursor: z.nullable(z.string()),
});
export type ConversationPage = z.infer<typeof ConversationPage>;

export const Message = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: z.enum(["inbound", "outbound"]),
  kind: z.string(),
  authorId: z.nullable(z.string()),
  text: z.string(),
  deliveryState: z.nullable(z.string()),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

export const MessagePage = z.object({ data: z.array(Message), nextCursor: z.nullable(z.string()) });

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
  return `/login?next=${encodeURIComponent("/inbox/")}`;
}

/** Calls the API and parses the answer; a lost session sends the agent to sign in. */
export async function api<T>(
  schema: z.ZodMiniType<T>,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? "GET",
    credentials: "same-origin",
    headers: {
      accept: "application/json",
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
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
