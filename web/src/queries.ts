import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as z from "zod/mini";
import { api, Conversation, ConversationPage, Me, MessagePage } from "./api.ts";

export type View = "mine" | "unassigned" | "all";

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

/** The open conversations of a view, newest activity first. */
export function useConversations(view: View, meId: string | undefined) {
  return useQuery({
    queryKey: keys.list(view),
    enabled: view !== "mine" || meId !== undefined,
    queryFn: async () => {
      const q = new URLSearchParams({ status: "open", limit: "100" });
      if (view === "mine" && meId) q.set("assigneeId", meId);
      const page = await api(ConversationPage, `/api/v1/conversations?${q}`);
      // the API has no "no assignee" filter yet: the unassigned view narrows the open page here
      return view === "unassigned" ? page.data.filter((c) => c.assigneeId === null) : page.data;
    },
  });
}

/** One conversation (its header: number, channel, status). */
export function useConversation(id: string) {
  return useQuery({
    queryKey: keys.conversation(id),
    queryFn: () => api(Conversation, `/api/v1/conversations/${encodeURIComponent(id)}`),
  });
}

/** A conversation's messages, oldest first. */
export function useMessages(id: string) {
  return useQuery({
    queryKey: keys.messages(id),
    queryFn: async () =>
      (await api(MessagePage, `/api/v1/conversations/${encodeURIComponent(id)}/messages?limit=200`)).data,
  });
}

const ReplyResult = z.object({ messageId: z.string() });

/** Posts a reply; the message list refreshes from the server (and from the live feed). */
export function useReply(conversationId: string) {
  const client = useQueryClient();
  return useMutation({
    // the composer makes clientId once per reply: a retried send is stored and sent once
    mutationFn: (reply: { text: string; clientId: string }) =>
      api(ReplyResult, `/api/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
        method: "POST",
        body: reply,
      }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.messages(conversationId) }),
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

/** Resolves a conversation; every list refreshes. */
export function useResolve(conversationId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () =>
      api(Conversation, `/api/v1/conversations/${encodeURIComponent(conversationId)}`, {
        method: "PATCH",
        body: { status: "resolved" },
      }),
    onSuccess: (updated) => client.setQueryData(keys.conversation(conversationId), updated),
    onSettled: () => client.invalidateQueries({ queryKey: keys.conversations }),
  });
}
