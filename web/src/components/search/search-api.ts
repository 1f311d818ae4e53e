import { keepPreviousData, useQuery } from "@tanstack/react-query";
import * as z from "zod/mini";
import { api } from "../../api.ts";
import { keys } from "../../queries.ts";

/** The server's bounds on a query (it refuses others with a message). */
export const SEARCH_MIN = 2;
export const SEARCH_MAX = 200;

const CustomerHit = z.object({
  id: z.string(),
  name: z.nullable(z.string()),
  email: z.nullable(z.string()),
  phone: z.nullable(z.string()),
  matched: z.string(),
});
export type CustomerHit = z.infer<typeof CustomerHit>;

const ConversationHit = z.object({
  id: z.string(),
  number: z.number(),
  subject: z.nullable(z.string()),
  channel: z.nullable(z.string()),
  status: z.string(),
  customerId: z.string(),
  customerName: z.nullable(z.string()),
  snippet: z.nullable(z.string()),
  matched: z.optional(z.string()),
  lastMessageAt: z.string(),
});
export type ConversationHit = z.infer<typeof ConversationHit>;

const SearchResult = z.object({ customers: z.array(CustomerHit), conversations: z.array(ConversationHit) });
export type SearchResult = z.infer<typeof SearchResult>;

/** Whether `q` is worth asking the server about. */
export function searchable(q: string): boolean {
  const n = q.trim().length;
  return n >= SEARCH_MIN && n <= SEARCH_MAX;
}

/** Customers and conversations matching `q`; nothing is asked for a query too short. */
export function useSearch(q: string) {
  const query = q.trim();
  return useQuery({
    queryKey: keys.search(query),
    enabled: searchable(query),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
    queryFn: ({ signal }) =>
      api(SearchResult, `/api/v1/search?${new URLSearchParams({ q: query, limit: "20" })}`, { signal }),
  });
}
