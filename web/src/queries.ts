import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, Conversation, Me, MessagePage } from "./api.ts";

import type { View } from "./list-queries.ts";

// the list's queries (views, filters, pages, counts) live in list-queries.ts
export type { View };

// query keys: the realtime feed invalidates these by prefix
// (every list of conversations lives under "conversations", so one invalidation refreshes them all)
export const keys = {
  me: ["me"] as const,
  conversations: ["conversations"] as const,
  list: (view: View, ...filters: unknown[]) => ["conversations", "list", view, ...filters] as const,
  counts: ["conversations", "counts"] as const,
  conversation: (id: string) => ["conversations", "one", id] as const,
  customerConversations: (customerId: string) => ["conversations", "customer", customerId] as const,
  messages: (id: string) => ["messages", id] as const,
  customer: (id: string, ...part: string[]) => ["customers", id, ...part] as const,
  search: (q: string) => ["search", q] as const,
  admin: (section: string, ...part: string[]) => ["admin", section, ...part] as const,
  directory: (what: "agents" | "teams" | "labels" | "inboxes" | "canned") => ["directory", what] as const,
};

/** The signed-in agent (also renews the session cookie's expiry). */
export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: () => api(Me, "/api/v1/auth/me"), staleTime: 300_000 });
}

/** One conversation (its header: number, channel, status). */
export function useConversation(id: string) {
  return useQuery({
    queryKey: keys.conversation(id),
    queryFn: () => api(Conversation, `/api/v1/conversations/${encodeURIComponent(id)}`),
  });
}

/** How many messages a page of a conversation holds. */
export const MESSAGES_PAGE = 100;

/**
 * A conversation's messages, oldest first: the newest page at once, earlier pages on demand
 * (`fetchNextPage` reads further back). A refresh starts again from the newest, so new
 * messages appear and every page already shown is read again.
 */
export function useMessages(id: string) {
  return useInfiniteQuery({
    queryKey: keys.messages(id),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api(
        MessagePage,
        `/api/v1/conversations/${encodeURIComponent(id)}/messages?limit=${MESSAGES_PAGE}&${
          pageParam ? `before=${encodeURIComponent(pageParam)}` : "latest=true"
        }`,
      ),
    getNextPageParam: (page) => page.previousCursor ?? undefined,
    select: (d) => [...d.pages].reverse().flatMap((p) => p.data),
  });
}

/** A random UUID (v4); crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
