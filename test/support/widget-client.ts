import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { createInbox, type Inbox } from "../../src/conversations/inboxes.ts";
import type { Db } from "../../src/db/client.ts";
import type { App } from "../../src/http/app.ts";

/** A chat inbox of the workspace, with the given chat settings. */
export async function chatInbox(
  db: Db,
  workspaceId: string,
  config: Record<string, unknown> = {},
): Promise<Inbox> {
  return createInbox(db, workspaceId, { kind: "chat", name: "Melodia Support", config });
}

export type Session = {
  token: string;
  anonymousId: string;
  customerId: string;
  verified: boolean;
  online: boolean;
  emailKnown: boolean;
};

/** Starts a visitor session through the API; throws with the answer when refused. */
export async function startVisitor(app: App, body: Record<string, unknown>): Promise<Session> {
  const res = await app.inject({ method: "POST", url: "/widget/v1/sessions", payload: body });
  if (res.statusCode !== 201) throw new Error(`session refused: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Posts a visitor's message; answers the raw response. */
export function postMessage(app: App, token: string, text: string, extra: Record<string, unknown> = {}) {
  return app.inject({
    method: "POST",
    url: "/widget/v1/messages",
    headers: { authorization: `Bearer ${token}` },
    payload: { text, clientId: randomUUID(), ...extra },
  });
}

/** A GET of the visitor API with the token. */
export function visitorGet(app: App, token: string, url: string) {
  return app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
}

/** A live socket (the visitor's or an agent's) that collects what arrives. */
export type Feed = {
  socket: WebSocket;
  received: Array<Record<string, unknown>>;
  opened: Promise<void>;
  closed: Promise<number>;
  next(
    what: string,
    match: (m: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>;
};

/** Opens a WebSocket at `url` and waits for its "ready" message. */
export function openFeed(url: string, headers: Record<string, string> = {}): Feed {
  const socket = new WebSocket(url, { headers });
  const received: Array<Record<string, unknown>> = [];
  socket.on("message", (data) => received.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    socket.on("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    socket.on("error", reject);
    socket.on("close", (code) => reject(new Error(`closed: ${code}`)));
    const wait = () => (received.some((m) => m.type === "ready") ? resolve() : setTimeout(wait, 10));
    socket.on("open", wait);
  });
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  const next: Feed["next"] = async (what, match, ms = 5000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = received.find(match);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { socket, received, opened, closed, next };
}
