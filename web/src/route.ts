import { type MouseEvent, useSyncExternalStore } from "react";

// The app's places, as real paths under /inbox/ so Back works and a link opens a place:
//   /inbox/                  the inbox (list; the open conversation beside it)
//   /inbox/c/<id>            one conversation
//   /inbox/search?q=…        search customers and conversations
//   /inbox/customers/<id>    one customer in full
//   /inbox/admin/<section>   settings (admins)
//   /inbox/simulator         play the customer on any channel

export type Route =
  | { page: "inbox"; conversationId: string | undefined }
  | { page: "search"; q: string }
  | { page: "customer"; id: string }
  | { page: "admin"; section: string | undefined }
  | { page: "simulator" }
  | { page: "not_found" };

const BASE = "/inbox/";

/** Reads a place from a path and query string. */
export function parseRoute(pathname: string, search = ""): Route {
  if (!pathname.startsWith(BASE) && pathname !== "/inbox") return { page: "not_found" };
  const rest = pathname.slice(BASE.length).replace(/\/+$/, "");
  const parts = rest === "" ? [] : rest.split("/").map((p) => decodeURIComponent(p));
  const [head, arg, extra] = parts;
  if (head === undefined) return { page: "inbox", conversationId: undefined };
  if (head === "c" && arg && extra === undefined) return { page: "inbox", conversationId: arg };
  if (head === "search" && arg === undefined) {
    return { page: "search", q: new URLSearchParams(search).get("q") ?? "" };
  }
  if (head === "customers" && arg && extra === undefined) return { page: "customer", id: arg };
  if (head === "admin" && extra === undefined) return { page: "admin", section: arg };
  if (head === "simulator" && arg === undefined) return { page: "simulator" };
  return { page: "not_found" };
}

/** The path of a place (the inverse of parseRoute). */
export function pathFor(route: Route): string {
  switch (route.page) {
    case "inbox":
      return route.conversationId ? `${BASE}c/${encodeURIComponent(route.conversationId)}` : BASE;
    case "search":
      return route.q ? `${BASE}search?q=${encodeURIComponent(route.q)}` : `${BASE}search`;
    case "customer":
      return `${BASE}customers/${encodeURIComponent(route.id)}`;
    case "admin":
      return route.section ? `${BASE}admin/${encodeURIComponent(route.section)}` : `${BASE}admin`;
    case "simulator":
      return `${BASE}simulator`;
    case "not_found":
      return BASE;
  }
}

const listeners = new Set<() => void>();
let snapshot = typeof location === "undefined" ? "" : location.pathname + location.search;

function changed(): void {
  snapshot = location.pathname + location.search;
  for (const l of listeners) l();
}

if (typeof window !== "undefined") window.addEventListener("popstate", changed);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Goes to a place (a path under /inbox/ or a Route); `replace` keeps it out of history. */
export function navigate(to: string | Route, opts: { replace?: boolean } = {}): void {
  const path = typeof to === "string" ? to : pathFor(to);
  if (path === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  changed();
}

/** The current place; re-renders when it changes. */
export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, () => snapshot);
  const q = path.indexOf("?");
  return q === -1 ? parseRoute(path) : parseRoute(path.slice(0, q), path.slice(q));
}

/**
 * For an <a href>'s onClick: a plain click moves inside the app; a click with a modifier
 * (new tab, new window) is left to the browser.
 */
export function followLink(e: MouseEvent<HTMLAnchorElement>, to: string | Route): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}

/** The open conversation's id from the URL, and a way to open another (or none). */
export function useOpenConversation(): [string | undefined, (id: string | undefined) => void] {
  const route = useRoute();
  const open = route.page === "inbox" ? route.conversationId : undefined;
  return [open, (id) => navigate({ page: "inbox", conversationId: id })];
}
