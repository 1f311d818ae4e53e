import {
  type InfiniteData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import * as z from "zod/mini";
import { ApiError, api, type Conversation, ConversationPage, NoContent } from "./api.ts";
import { keys } from "./queries.ts";

// The conversation list's data: a view (mine, unassigned, all) narrowed by filters, read page by
// page with the server's cursor; the counts beside each view; the choices the filters offer;
// and the agent's chosen view and filters, remembered in this browser.

export type View = "mine" | "unassigned" | "all";
export const VIEWS: View[] = ["mine", "unassigned", "all"];
export const STATUSES = ["open", "pending", "snoozed", "resolved"] as const;
export const PRIORITIES = ["urgent", "high", "medium", "low", "none"] as const;
export const SORTS = ["last_message", "waiting", "created", "priority"] as const;
export type Sort = (typeof SORTS)[number];

/** What narrows the list; an empty status list means every status. */
export type ListFilters = {
  status: string[];
  inboxId?: string | undefined;
  channel?: string | undefined;
  teamId?: string | undefined;
  label?: string | undefined;
  priority?: string | undefined;
  sort: Sort;
};

export type ListPrefs = { view: View; filters: ListFilters };

export const DEFAULT_FILTERS: ListFilters = { status: ["open"], sort: "last_message" };
const DEFAULT_PREFS: ListPrefs = { view: "all", filters: DEFAULT_FILTERS };

/** Rows per page: small enough to answer fast, large enough to fill a tall screen. */
export const PAGE_SIZE = 50;

/** How many filters narrow the list beyond the defaults (the sort is no filter). */
export function activeFilters(f: ListFilters): number {
  const statusChanged = f.status.length !== 1 || f.status[0] !== "open";
  return (
    (statusChanged ? 1 : 0) +
    [f.inboxId, f.channel, f.teamId, f.label, f.priority].filter((v) => v !== undefined && v !== "").length
  );
}

/** The query string of one page of a view. */
export function listQuery(view: View, f: ListFilters, cursor: string | undefined): string {
  const q = new URLSearchParams({ view, sort: f.sort, limit: String(PAGE_SIZE) });
  if (f.status.length > 0) q.set("status", f.status.join(","));
  for (const k of ["inboxId", "channel", "teamId", "label", "priority"] as const) {
    const v = f[k];
    if (v) q.set(k, v);
  }
  if (cursor) q.set("cursor", cursor);
  return q.toString();
}

// stored values stay strings: one the server refuses shows its reason instead of vanishing
const StoredPrefs = z.object({
  view: z.catch(z.enum(["mine", "unassigned", "all"]), "all"),
  filters: z.catch(
    z.object({
      status: z.catch(z.array(z.string()), ["open"]),
      inboxId: z.optional(z.catch(z.string(), "")),
      channel: z.optional(z.catch(z.string(), "")),
      teamId: z.optional(z.catch(z.string(), "")),
      label: z.optional(z.catch(z.string(), "")),
      priority: z.optional(z.catch(z.string(), "")),
      sort: z.catch(z.enum(SORTS), "last_message"),
    }),
    DEFAULT_FILTERS,
  ),
});

const storageKey = (userId: string) => `rapport.inbox.list.${userId}`;

/** The agent's last view and filters in this browser, or the defaults. */
export function loadPrefs(userId: string): ListPrefs {
  try {
    const raw = localStorage.getItem(storageKey(userId));
    if (!raw) return DEFAULT_PREFS;
    const parsed = StoredPrefs.safeParse(JSON.parse(raw));
    if (!parsed.success) return DEFAULT_PREFS;
    const f = parsed.data.filters;
    const clean = (v: string | undefined) => (v ? v : undefined);
    return {
      view: parsed.data.view,
      filters: {
        status: f.status.filter((x) => STATUSES.some((st) => st === x)),
        inboxId: clean(f.inboxId),
        channel: clean(f.channel),
        teamId: clean(f.teamId),
        label: clean(f.label),
        priority: clean(f.priority),
        sort: f.sort,
      },
    };
  } catch {
    // storage may be disabled (private mode) or hold something else: start from the defaults
    return DEFAULT_PREFS;
  }
}

/** The view and filters, remembered per agent in localStorage as they change. */
export function useListPrefs(userId: string) {
  const [prefs, setPrefs] = useState<ListPrefs>(() => loadPrefs(userId));
  const save = useCallback(
    (next: ListPrefs) => {
      setPrefs(next);
      try {
        localStorage.setItem(storageKey(userId), JSON.stringify(next));
      } catch {
        // a full or disabled storage only loses the memory of the choice
      }
    },
    [userId],
  );
  return [prefs, save] as const;
}

/** A refusal the agent can act on (a bad filter), as opposed to a network or server failure. */
export function isRefusal(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status >= 400 && err.status < 500;
}

/** Rows of every loaded page, each conversation once: pages read at different moments overlap. */
export function dedupe(pages: ConversationPage[] | undefined): Conversation[] {
  const seen = new Set<string>();
  const out: Conversation[] = [];
  for (const p of pages ?? []) {
    for (const c of p.data) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push(c);
    }
  }
  return out;
}

/** A view's conversations, page by page (cursor pagination, 50 a page). */
export function useConversationList(view: View, filters: ListFilters) {
  const query = useInfiniteQuery({
    queryKey: keys.list(view, filters),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: ConversationPage) => last.nextCursor ?? undefined,
    queryFn: ({ pageParam, signal }) =>
      api(ConversationPage, `/api/v1/conversations?${listQuery(view, filters, pageParam)}`, { signal }),
    // a refused filter will be refused again: say so at once instead of retrying
    retry: (n, err) => !isRefusal(err) && n < 2,
  });
  const rows = useMemo(() => dedupe(query.data?.pages), [query.data]);
  return { ...query, rows };
}

const OpenCount = z.object({ open: z.number(), pending: z.number() });
export const Counts = z.object({
  views: z.object({ mine: z.nullable(OpenCount), unassigned: OpenCount, all: OpenCount }),
  unread: z.optional(z.object({ mine: z.nullable(z.number()), unassigned: z.number(), all: z.number() })),
});
export type Counts = z.infer<typeof Counts>;

/**
 * Open and pending conversations of each view, and how many the agent has unread. `enabled`
 * lets the first page of rows go first: the counts scan every conversation.
 */
export function useCounts(enabled = true) {
  return useQuery({
    enabled,
    queryKey: keys.counts,
    queryFn: ({ signal }) => api(Counts, "/api/v1/conversations/counts?unread=true", { signal }),
  });
}

const Named = z.object({ id: z.string(), name: z.string() });
const Inboxes = z.object({
  data: z.array(z.object({ id: z.string(), name: z.string(), channel: z.optional(z.nullable(z.string())) })),
});
const Teams = z.object({ data: z.array(Named) });
const Labels = z.object({ data: z.array(z.object({ name: z.string() })) });
const Agents = z.object({ data: z.array(Named) });

// the list's own entries under the shared directory keys, so its shapes never meet another's
const optionKey = (what: "agents" | "teams" | "labels" | "inboxes") => [...keys.directory(what), "list"];

/** The inboxes, teams and labels the filters offer, read once the agent opens the filters. */
export function useListOptions(enabled: boolean) {
  const options = { staleTime: 300_000, retry: 1, enabled };
  const inboxes = useQuery({
    ...options,
    queryKey: optionKey("inboxes"),
    queryFn: async () => (await api(Inboxes, "/api/v1/inboxes")).data,
  });
  const teams = useQuery({
    ...options,
    queryKey: optionKey("teams"),
    queryFn: async () => (await api(Teams, "/api/v1/teams")).data,
  });
  const labels = useQuery({
    ...options,
    queryKey: optionKey("labels"),
    queryFn: async () => (await api(Labels, "/api/v1/labels")).data.map((l) => l.name),
  });
  return { inboxes: inboxes.data ?? [], teams: teams.data ?? [], labels: labels.data ?? [] };
}

/** Agents by id, for the initials of each row's assignee (asked after the rows: they can wait). */
export function useAgentNames(enabled: boolean): Map<string, string> {
  const agents = useQuery({
    enabled,
    staleTime: 300_000,
    retry: 1,
    queryKey: optionKey("agents"),
    queryFn: async () => (await api(Agents, "/api/v1/agents")).data,
  });
  return useMemo(() => new Map((agents.data ?? []).map((a) => [a.id, a.name])), [agents.data]);
}

/** Clears a conversation's unread marker in every loaded list at once, before the server answers. */
export function clearUnreadLocally(client: QueryClient, id: string): void {
  client.setQueriesData<InfiniteData<ConversationPage>>(
    { queryKey: [...keys.conversations, "list"] },
    (old) =>
      old?.pages
        ? {
            ...old,
            pages: old.pages.map((p) =>
              p.data.some((c) => c.id === id && c.unread)
                ? { ...p, data: p.data.map((c) => (c.id === id ? { ...c, unread: false } : c)) }
                : p,
            ),
          }
        : old,
  );
}

/** Marks a conversation read by the agent (POST …/read); the marker clears locally first. */
export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api(NoContent, `/api/v1/conversations/${encodeURIComponent(id)}/read`, { method: "POST" }),
    onMutate: (id) => clearUnreadLocally(client, id),
    // the counts' unread numbers follow (the live feed also says so)
    onSettled: () => client.invalidateQueries({ queryKey: keys.counts }),
  });
}
