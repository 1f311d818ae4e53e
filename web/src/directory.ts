import { useQuery } from "@tanstack/react-query";
import * as z from "zod/mini";
import { api } from "./api.ts";
import { keys } from "./queries.ts";

// The workspace's lists that screens pick from: agents (to assign, to mention), teams, labels
// in use, inboxes and canned responses. Each is fetched once and kept a few minutes; any
// screen may use them.

export const Agent = z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.string() });
export type Agent = z.infer<typeof Agent>;
export const Team = z.object({ id: z.string(), name: z.string(), memberIds: z.array(z.string()) });
export type Team = z.infer<typeof Team>;
export const Label = z.object({ name: z.string(), count: z.number(), open: z.number() });
export type Label = z.infer<typeof Label>;
export const Inbox = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  address: z.optional(z.nullable(z.string())),
});
export type Inbox = z.infer<typeof Inbox>;
export const CannedResponse = z.object({
  id: z.string(),
  shortcut: z.string(),
  title: z.string(),
  body: z.string(),
});
export type CannedResponse = z.infer<typeof CannedResponse>;

const list = <T>(item: z.ZodMiniType<T>) => z.object({ data: z.array(item) });
const STALE = 5 * 60_000;

/** The active members of the workspace (every role may read them). */
export function useAgents() {
  return useQuery({
    queryKey: keys.directory("agents"),
    queryFn: async () => (await api(list(Agent), "/api/v1/agents")).data,
    staleTime: STALE,
  });
}

/** The workspace's teams and their members. */
export function useTeams() {
  return useQuery({
    queryKey: keys.directory("teams"),
    queryFn: async () => (await api(list(Team), "/api/v1/teams")).data,
    staleTime: STALE,
  });
}

/** The labels the workspace's conversations carry. */
export function useLabels() {
  return useQuery({
    queryKey: keys.directory("labels"),
    queryFn: async () => (await api(list(Label), "/api/v1/labels")).data,
    staleTime: STALE,
  });
}

/** The workspace's inboxes (their settings stay with admins). */
export function useInboxes() {
  return useQuery({
    queryKey: keys.directory("inboxes"),
    queryFn: async () => (await api(list(Inbox), "/api/v1/inboxes")).data,
    staleTime: STALE,
  });
}

/** The canned responses, all of them (a workspace keeps tens, not thousands), by shortcut. */
export function useCannedResponses(enabled = true) {
  return useQuery({
    queryKey: keys.directory("canned"),
    queryFn: async () => (await api(list(CannedResponse), "/api/v1/canned-responses?limit=200")).data,
    staleTime: 60_000,
    enabled,
  });
}

/** The canned responses matching what the agent typed: the shortcut's start, or words of title or body. */
export function filterCanned(all: readonly CannedResponse[], query: string): CannedResponse[] {
  const q = query.replace(/^\//, "").trim().toLowerCase();
  if (!q) return [...all];
  const starts = all.filter((c) => c.shortcut.toLowerCase().startsWith(q));
  const rest = all.filter(
    (c) => !starts.includes(c) && (c.title.toLowerCase().includes(q) || c.body.toLowerCase().includes(q)),
  );
  return [...starts, ...rest];
}

/** The agent of `id`, if listed. */
export function agentName(
  agents: readonly Agent[] | undefined,
  id: string | null | undefined,
): string | undefined {
  return id ? agents?.find((a) => a.id === id)?.name : undefined;
}
