import * as z from "zod/mini";

// The settings' API shapes, as the settings read them (dates arrive as ISO strings).

export const Inbox = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  channel: z.nullable(z.string()),
  address: z.nullable(z.string()),
  config: z.record(z.string(), z.unknown()),
  assignment: z.string(),
  teamId: z.nullable(z.string()),
  createdAt: z.string(),
});
export type Inbox = z.infer<typeof Inbox>;
export const InboxList = z.object({ data: z.array(Inbox) });

export const Topic = z.object({
  id: z.string(),
  key: z.string(),
  names: z.record(z.string(), z.string()),
  descriptions: z.record(z.string(), z.string()),
  kind: z.enum(["marketing", "transactional"]),
  defaults: z.record(z.string(), z.string()),
  visible: z.boolean(),
  archivedAt: z.nullable(z.string()),
});
export type Topic = z.infer<typeof Topic>;
export const TopicList = z.object({ data: z.array(Topic) });

export const Team = z.object({ id: z.string(), name: z.string(), memberIds: z.array(z.string()) });
export type Team = z.infer<typeof Team>;
export const TeamList = z.object({ data: z.array(Team) });

export const User = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["owner", "admin", "agent"]),
  status: z.enum(["active", "invited", "disabled"]),
  lastSignInAt: z.nullable(z.string()),
});
export type User = z.infer<typeof User>;
export const UserList = z.object({ users: z.array(User) });
export const Invited = z.object({ user: User, inviteUrl: z.optional(z.string()) });

export const Canned = z.object({ id: z.string(), shortcut: z.string(), title: z.string(), body: z.string() });
export type Canned = z.infer<typeof Canned>;
export const CannedList = z.object({ data: z.array(Canned) });
export const Rendered = z.object({ text: z.string() });

export const ApiKey = z.object({
  id: z.string(),
  kind: z.enum(["write", "secret"]),
  name: z.string(),
  hint: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.nullable(z.string()),
  revokedAt: z.nullable(z.string()),
});
export type ApiKey = z.infer<typeof ApiKey>;
export const ApiKeyList = z.object({ apiKeys: z.array(ApiKey) });
export const ApiKeyCreated = z.object({ apiKey: ApiKey, token: z.string() });

export const Endpoint = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  allowPrivate: z.boolean(),
  enabled: z.boolean(),
  disabledReason: z.nullable(z.string()),
  secret: z.optional(z.string()),
});
export type Endpoint = z.infer<typeof Endpoint>;
export const EndpointList = z.object({ data: z.array(Endpoint) });
export const EndpointOne = z.object({ endpoint: Endpoint });
export const EventTypes = z.object({ data: z.array(z.string()) });
export const Attempt = z.object({
  id: z.string(),
  eventType: z.string(),
  state: z.string(),
  attempts: z.number(),
  lastStatus: z.nullable(z.number()),
  lastError: z.nullable(z.string()),
  createdAt: z.string(),
});
export const AttemptList = z.object({ data: z.array(Attempt) });

export const OutboxItem = z.object({
  id: z.string(),
  channel: z.nullable(z.string()),
  state: z.string(),
  address: z.nullable(z.string()),
  content: z.nullable(
    z.object({ subject: z.optional(z.string()), text: z.string(), title: z.optional(z.string()) }),
  ),
  createdAt: z.string(),
  sentAt: z.nullable(z.string()),
});
export type OutboxItem = z.infer<typeof OutboxItem>;
export const OutboxPage = z.object({ data: z.array(OutboxItem) });
