import { InfiniteQueryObserver, QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keys } from "../web/src/queries.ts";
import { applyLiveEvent } from "../web/src/realtime.ts";

// What the agent app does with a live event, against TanStack Query itself: each read the
// server is asked for is held until the test answers it, as a slow network would.

type Page = { data: { id: string }[]; nextCursor: string | null };

/** A query function whose calls wait for `answer(n, value)`. */
function heldReads<T>() {
  const pending: ((value: T) => void)[] = [];
  return {
    calls: () => pending.length,
    read: () =>
      new Promise<T>((resolve) => {
        pending.push(resolve);
      }),
    answer(n: number, value: T) {
      const resolve = pending[n];
      if (!resolve) throw new Error(`read ${n} was never asked for`);
      resolve(value);
    },
  };
}

/** A list of conversations read page by page with `read`, as the list screen reads it. */
const listOf = (client: QueryClient, queryKey: readonly unknown[], read: () => Promise<Page>) =>
  new InfiniteQueryObserver(client, {
    queryKey,
    queryFn: read,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page) => last.nextCursor ?? undefined,
  });

const clients: QueryClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.clear();
});
const newClient = () => {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  clients.push(client);
  return client;
};

describe("a live event refreshes the agent app's data", () => {
  it("a message that lands while a filtered list loads for the first time still shows", async () => {
    const client = newClient();
    const server = heldReads<Page>();
    const list = listOf(
      client,
      keys.list("all", { status: ["open"], channel: "sms", sort: "last_message" }),
      server.read,
    );
    const stop = list.subscribe(() => {});
    await vi.waitFor(() => expect(server.calls()).toBe(1));

    // the first load read the database before the message was stored; the event comes before its answer
    applyLiveEvent(client, { type: "message.created", conversationId: "c1" });
    server.answer(0, { data: [], nextCursor: null });
    await vi.waitFor(() => expect(server.calls()).toBe(2));
    server.answer(1, { data: [{ id: "c1" }], nextCursor: null });
    await vi.waitFor(() => expect(list.getCurrentResult().data?.pages[0]?.data).toEqual([{ id: "c1" }]));
    stop();
  });

  it("a loaded list reads once more per event; typing leaves it alone; messages refresh their conversation only", async () => {
    const client = newClient();
    const server = heldReads<Page>();
    const list = listOf(client, keys.list("mine", { status: ["open"], sort: "last_message" }), server.read);
    const messages = { c1: heldReads<string[]>(), c2: heldReads<string[]>() };
    const threads = (["c1", "c2"] as const).map(
      (id) => new QueryObserver(client, { queryKey: keys.messages(id), queryFn: messages[id].read }),
    );
    const stops = [list, ...threads].map((o) => o.subscribe(() => {}));
    await vi.waitFor(() => expect(server.calls()).toBe(1));
    server.answer(0, { data: [{ id: "c2" }], nextCursor: null });
    messages.c1.answer(0, ["hello"]);
    messages.c2.answer(0, ["hi"]);
    await vi.waitFor(() => expect(list.getCurrentResult().isSuccess).toBe(true));

    applyLiveEvent(client, { type: "typing.started", conversationId: "c1" });
    applyLiveEvent(client, { type: "message.updated", conversationId: "c1" });
    await vi.waitFor(() => expect(messages.c1.calls()).toBe(2));
    expect(server.calls()).toBe(1);
    expect(messages.c2.calls()).toBe(1);

    applyLiveEvent(client, { type: "conversation.updated", conversationId: "c2" });
    await vi.waitFor(() => expect(server.calls()).toBe(2));
    expect(messages.c2.calls()).toBe(1);
    for (const stop of stops) stop();
  });

  it("an event that refreshes a list twice in a row leaves the newest answer shown", async () => {
    const client = newClient();
    const server = heldReads<Page>();
    const list = listOf(client, keys.list("all", { status: ["open"], sort: "last_message" }), server.read);
    const stop = list.subscribe(() => {});
    await vi.waitFor(() => expect(server.calls()).toBe(1));
    server.answer(0, { data: [{ id: "a" }], nextCursor: null });
    await vi.waitFor(() => expect(list.getCurrentResult().isSuccess).toBe(true));

    applyLiveEvent(client, { type: "message.created", conversationId: "b" });
    await vi.waitFor(() => expect(server.calls()).toBe(2));
    applyLiveEvent(client, { type: "message.created", conversationId: "c" });
    await vi.waitFor(() => expect(server.calls()).toBe(3));
    // the older read answers last: it is not the one shown
    server.answer(2, { data: [{ id: "c" }, { id: "b" }, { id: "a" }], nextCursor: null });
    server.answer(1, { data: [{ id: "b" }, { id: "a" }], nextCursor: null });
    await vi.waitFor(() =>
      expect(list.getCurrentResult().data?.pages[0]?.data.map((c) => c.id)).toEqual(["c", "b", "a"]),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(list.getCurrentResult().data?.pages[0]?.data.map((c) => c.id)).toEqual(["c", "b", "a"]);
    stop();
  });
});
