import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import * as z from "zod/mini";
import { ApiError, api, ConversationPage } from "../../api.ts";
import { keys } from "../../queries.ts";

// What the customer 360 reads from the API, and one hook per part. Each section asks for its
// part only when it is opened; the profile itself (summary, identities, traits) comes first.

const Identity = z.object({ kind: z.string(), value: z.string() });
export type Identity = z.infer<typeof Identity>;

export const CustomerDetail = z.object({
  id: z.string(),
  traits: z.record(z.string(), z.unknown()),
  identities: z.array(Identity),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CustomerDetail = z.infer<typeof CustomerDetail>;

const MergeRecord = z.object({
  id: z.string(),
  survivorId: z.string(),
  mergedId: z.string(),
  reason: z.string(),
  actor: z.string(),
  createdAt: z.string(),
});
export type MergeRecord = z.infer<typeof MergeRecord>;

const CellState = z.object({ subscribed: z.boolean(), source: z.string() });
export type CellState = z.infer<typeof CellState>;

export const ConsentOverview = z.object({
  customerId: z.string(),
  timezone: z.string(),
  language: z.string(),
  reachableChannels: z.array(z.string()),
  topics: z.array(
    z.object({
      id: z.string(),
      key: z.string(),
      kind: z.string(),
      names: z.record(z.string(), z.string()),
      channels: z.record(z.string(), CellState),
    }),
  ),
  suppressions: z.array(
    z.object({
      channel: z.string(),
      address: z.nullable(z.string()),
      reason: z.string(),
      createdAt: z.string(),
    }),
  ),
});
export type ConsentOverview = z.infer<typeof ConsentOverview>;

const ConsentEntry = z.object({
  id: z.string(),
  channel: z.string(),
  topic: z.nullable(z.string()),
  status: z.string(),
  source: z.string(),
  createdAt: z.string(),
});
export type ConsentEntry = z.infer<typeof ConsentEntry>;

const TimelineEvent = z.object({
  id: z.string(),
  type: z.string(),
  name: z.nullable(z.string()),
  properties: z.record(z.string(), z.unknown()),
  traits: z.nullable(z.record(z.string(), z.unknown())),
  timestamp: z.string(),
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

const Delivery = z.object({
  id: z.string(),
  channel: z.nullable(z.string()),
  topic: z.string(),
  state: z.string(),
  address: z.nullable(z.string()),
  content: z.nullable(
    z.object({ subject: z.optional(z.string()), title: z.optional(z.string()), text: z.string() }),
  ),
  createdAt: z.string(),
  sentAt: z.nullable(z.string()),
});
export type Delivery = z.infer<typeof Delivery>;

const page = <T extends z.ZodMiniType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.nullable(z.string()) });

const customerPath = (id: string, part = "") => `/api/v1/customers/${encodeURIComponent(id)}${part}`;

/** A refusal (not found, a malformed id) is final; only a failing server is asked again. */
export function retryServerErrors(failures: number, error: Error): boolean {
  return !(error instanceof ApiError && error.status < 500) && failures < 2;
}

/** The customer's profile: summary, identities and traits in one answer. */
export function useCustomer(id: string | undefined) {
  return useQuery({
    queryKey: keys.customer(id ?? "", "profile"),
    enabled: id !== undefined,
    retry: retryServerErrors,
    queryFn: () => api(CustomerDetail, customerPath(id ?? "")),
  });
}

/** Profiles merged into this customer. */
export function useMerges(id: string) {
  return useQuery({
    queryKey: keys.customer(id, "merges"),
    retry: retryServerErrors,
    queryFn: async () =>
      (await api(z.object({ data: z.array(MergeRecord) }), customerPath(id, "/merges"))).data,
  });
}

/** Consent per topic and channel, with preferences and suppressions. */
export function useConsent(id: string) {
  return useQuery({
    queryKey: keys.customer(id, "consent"),
    retry: retryServerErrors,
    queryFn: () => api(ConsentOverview, customerPath(id, "/consent")),
  });
}

/** A paginated list under the customer, newest first, `limit` rows a page. */
function usePaged<T>(
  key: readonly unknown[],
  schema: z.ZodMiniType<{ data: T[]; nextCursor: string | null }>,
  path: string,
  limit: number,
) {
  return useInfiniteQuery({
    queryKey: [...key, limit],
    initialPageParam: "",
    retry: retryServerErrors,
    queryFn: ({ pageParam, signal }) => {
      const q = new URLSearchParams({ limit: String(limit) });
      if (pageParam) q.set("cursor", pageParam);
      return api(schema, `${path}?${q}`, { signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useLedger(id: string, limit: number) {
  return usePaged(
    keys.customer(id, "ledger"),
    page(ConsentEntry),
    customerPath(id, "/consent/ledger"),
    limit,
  );
}

export function useEvents(id: string, limit: number) {
  return usePaged(keys.customer(id, "events"), page(TimelineEvent), customerPath(id, "/events"), limit);
}

export function useDeliveries(id: string, limit: number) {
  return usePaged(keys.customer(id, "deliveries"), page(Delivery), customerPath(id, "/deliveries"), limit);
}

/** The customer's conversations on every channel (under "conversations": the live feed refreshes them). */
export function useCustomerConversations(id: string, limit: number) {
  return usePaged(
    keys.customerConversations(id),
    ConversationPage,
    customerPath(id, "/conversations"),
    limit,
  );
}

/** A display name from the traits brands usually send. */
export function customerName(c: CustomerDetail): string | undefined {
  const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
  const t = c.traits;
  return (
    text(t.name) ??
    text([text(t.first_name), text(t.last_name)].filter(Boolean).join(" ")) ??
    text([text(t.firstName), text(t.lastName)].filter(Boolean).join(" "))
  );
}

/** The first identity of a kind, else a trait of the same name. */
export function identityOf(c: CustomerDetail, kind: string): string | undefined {
  const found = c.identities.find((i) => i.kind === kind)?.value;
  if (found) return found;
  const trait = c.traits[kind];
  return typeof trait === "string" && trait !== "" ? trait : undefined;
}

/** Up to two initials for the avatar. */
export function initials(label: string): string {
  const words = label.split(/[\s@._-]+/).filter((w) => w !== "");
  return words
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join("");
}
