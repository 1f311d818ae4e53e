import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import * as z from "zod/mini";
import { keys } from "./queries.ts";

// The live feed: one WebSocket per tab. Every event refreshes what it touches from the REST
// API (the API stays the one source of truth, so nothing is duplicated); after a drop it
// reconnects with backoff and refreshes everything, so nothing missed while away is lost.

const Event = z.looseObject({ type: z.string(), conversationId: z.optional(z.string()) });

/** A message of the live feed, as the server sent it (type, conversationId and the rest). */
export type LiveEvent = z.infer<typeof Event>;

const listeners = new Set<(event: LiveEvent) => void>();

/**
 * Hears every live event (typing indicators and the like, which no query holds);
 * answers the function that stops listening.
 */
export function onLiveEvent(listener: (event: LiveEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type LiveState = "connecting" | "live" | "reconnecting";

const MAX_BACKOFF_MS = 15_000;

/** The delay before reconnect attempt `n` (0-based): doubling from 500 ms, with jitter, capped. */
export function backoff(n: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** n);
  return Math.round(base / 2 + (random() * base) / 2);
}

function parse(data: unknown): z.infer<typeof Event> | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const event = Event.safeParse(JSON.parse(data));
    return event.success ? event.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads again what a change touched. A read under way may have begun before the change: it is
 * dropped and begun afresh. (TanStack Query would fold the new read into a first load still in
 * flight, and the list would show what that load read: a message lost until the next event.)
 */
async function refresh(client: QueryClient, filters: { queryKey?: readonly unknown[] } = {}): Promise<void> {
  await client.cancelQueries(filters);
  await client.invalidateQueries(filters);
}

/** Refreshes the queries a live event touches. */
export function applyLiveEvent(client: QueryClient, event: LiveEvent): void {
  const id = event.conversationId;
  if (event.type.startsWith("message.") && id) {
    void refresh(client, { queryKey: keys.messages(id) });
  }
  // a new message moves its conversation up the list; a change of status or assignee moves it
  // between views; typing and edits to a message leave the lists as they are
  if (event.type === "message.created" || event.type.startsWith("conversation.")) {
    void refresh(client, { queryKey: keys.conversations });
  }
}

/** Keeps the conversation caches live while mounted; answers the connection's state. */
export function useRealtime(): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    let socket: WebSocket | undefined;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/realtime`;
    const connect = () => {
      socket = new WebSocket(url);
      socket.onmessage = (m) => {
        const event = parse(m.data);
        if (!event) return;
        if (event.type !== "ready") {
          for (const l of listeners) l(event);
          return applyLiveEvent(client, event);
        }
        // subscribed now: refetch what may have changed before (at load, or while the socket was down)
        void refresh(client);
        attempt = 0;
        setState("live");
      };
      socket.onclose = () => {
        if (stopped) return;
        setState("reconnecting");
        // a refused upgrade may be a lost session: asking who we are sends a signed-out agent to sign in
        if (attempt > 0) void client.invalidateQueries({ queryKey: keys.me });
        timer = setTimeout(connect, backoff(attempt));
        attempt += 1;
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    };
  }, [client]);
  return state;
}
