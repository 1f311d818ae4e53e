// The frame's live connection: agents' replies and typing arrive here. It reconnects with a
// growing pause, and starts a fresh session when the server refuses the token.

import type { ChatMessage, InAppMessage } from "./api.ts";

export type LiveEvent =
  | ({ type: "message" } & ChatMessage)
  | { type: "typing"; conversationId: string; from: "agent"; typing: boolean }
  | { type: "inbox"; event: { type: string; message?: InAppMessage; id?: string } }
  | { type: "ready" };

/** The close code the server uses for a token it does not accept. */
const UNAUTHORIZED = 4401;

export class Live {
  #socket: WebSocket | null = null;
  #delay = 1000;
  #stopped = false;

  constructor(
    private readonly token: () => Promise<string>,
    private readonly onEvent: (event: LiveEvent) => void,
    private readonly onState: (connected: boolean) => void,
    private readonly refresh: () => Promise<void>,
  ) {}

  async connect(): Promise<void> {
    this.#stopped = false;
    const token = await this.token();
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/widget/v1/socket?token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onmessage = (m) => {
      try {
        const event = JSON.parse(String(m.data)) as LiveEvent;
        if (event.type === "ready") {
          this.#delay = 1000;
          this.onState(true);
        }
        this.onEvent(event);
      } catch {
        // not ours
      }
    };
    socket.onclose = (e) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.onState(false);
      this.#retry(e.code === UNAUTHORIZED);
    };
  }

  #retry(refresh: boolean): void {
    if (this.#stopped) return;
    const wait = this.#delay;
    this.#delay = Math.min(this.#delay * 2, 30_000);
    setTimeout(async () => {
      if (this.#stopped) return;
      try {
        if (refresh) await this.refresh();
        await this.connect();
      } catch {
        this.#retry(refresh);
      }
    }, wait);
  }

  send(message: unknown): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.close();
    this.#socket = null;
  }
}
