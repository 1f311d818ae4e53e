import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as z from "zod/mini";
import { Attachment, api, Conversation, ConversationPage } from "./api.ts";
import { keys } from "./queries.ts";

// What an agent does to the open conversation: change it (status, snooze, assignee, team,
// labels, priority), merge it, reply or add a note, render a canned response, upload a file.
// Changes show at once and are rolled back if the server refuses them.

const path = (id: string) => `/api/v1/conversations/${encodeURIComponent(id)}`;

export type ConversationChange = {
  status?: "open" | "pending" | "snoozed" | "resolved";
  snoozedUntil?: string | null;
  priority?: string;
  assigneeId?: string | null;
  teamId?: string | null;
  labels?: string[];
};

/** Changes the conversation, optimistically: the header shows it before the server answers. */
export function useChangeConversation(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (change: ConversationChange) =>
      api(Conversation, path(id), { method: "PATCH", body: change }),
    onMutate: async (change) => {
      await client.cancelQueries({ queryKey: keys.conversation(id) });
      const before = client.getQueryData<Conversation>(keys.conversation(id));
      if (before) {
        const after: Conversation = { ...before, ...change };
        if (change.status && change.status !== "snoozed") after.snoozedUntil = null;
        client.setQueryData(keys.conversation(id), after);
      }
      return { before };
    },
    onError: (_err, _change, context) => {
      if (context?.before) client.setQueryData(keys.conversation(id), context.before);
    },
    onSuccess: (updated) => client.setQueryData(keys.conversation(id), updated),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.conversations });
      void client.invalidateQueries({ queryKey: keys.directory("labels") });
    },
  });
}

/** Resolves the conversation; every list refreshes. */
export function useResolve(id: string) {
  const change = useChangeConversation(id);
  return { ...change, mutate: () => change.mutate({ status: "resolved" }) };
}

/** The customer's other conversations (merge candidates), newest activity first. */
export function useCustomerConversations(customerId: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.customerConversations(customerId),
    enabled,
    queryFn: async () => {
      const q = new URLSearchParams({ customerId, limit: "50" });
      return (await api(ConversationPage, `/api/v1/conversations?${q}`)).data;
    },
  });
}

const MergeResult = z.object({ into: Conversation, merged: Conversation });

/** Merges this conversation into `into` (same customer); answers both as they are now. */
export function useMerge(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (into: string) => api(MergeResult, `${path(id)}/merge`, { method: "POST", body: { into } }),
    onSuccess: (result) => {
      client.setQueryData(keys.conversation(id), result.merged);
      client.setQueryData(keys.conversation(result.into.id), result.into);
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.conversations });
      void client.invalidateQueries({ queryKey: ["messages"] });
    },
  });
}

export type ReplyBody = {
  text: string;
  /** Made once per reply written: a retried send is stored and sent once. */
  clientId: string;
  /** A private note: agents only, never sent. */
  private?: boolean;
  /** For a comment or a public post: answer under it, or privately. */
  visibility?: "public" | "private";
  attachments?: Array<{ key: string }>;
  /** Email: a subject other than the default `Re: …`, and the people copied. */
  subject?: string;
  cc?: string[];
};

const ReplyResult = z.object({ messageId: z.string() });

/** Posts a reply or a note; with `resolve`, resolves the conversation once it is stored. */
export function useReply(id: string) {
  const client = useQueryClient();
  return useMutation({
    // offline, a send fails at once and says so (the draft stays), instead of waiting unseen
    networkMode: "always",
    mutationFn: async ({ resolve, ...body }: ReplyBody & { resolve?: boolean }) => {
      const result = await api(ReplyResult, `${path(id)}/messages`, { method: "POST", body });
      if (resolve) {
        const updated = await api(Conversation, path(id), { method: "PATCH", body: { status: "resolved" } });
        client.setQueryData(keys.conversation(id), updated);
      }
      return result;
    },
    onSettled: (_r, _e, vars) => {
      void client.invalidateQueries({ queryKey: keys.messages(id) });
      if (vars.resolve) void client.invalidateQueries({ queryKey: keys.conversations });
    },
  });
}

const Rendered = z.object({ text: z.string() });

/** A canned response's body rendered for this conversation's customer and the agent. */
export async function renderCanned(cannedId: string, conversationId: string): Promise<string> {
  const r = await api(Rendered, `/api/v1/canned-responses/${encodeURIComponent(cannedId)}/render`, {
    method: "POST",
    body: { conversationId },
  });
  return r.text;
}

/** Uploads a file for a reply; the answer's key goes with the reply. */
export function uploadAttachment(file: File, signal?: AbortSignal): Promise<Attachment> {
  const form = new FormData();
  form.append("file", file, file.name);
  return api(Attachment, "/api/v1/attachments", {
    method: "POST",
    body: form,
    ...(signal ? { signal } : {}),
  });
}
