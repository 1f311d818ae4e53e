// The visitor API of the chat frame (same origin as the frame: no CORS, no cookies), with the
// visitor token as a bearer. A refused token starts a fresh session once and retries.

import type { PageInfo, VisitorSettings } from "../protocol.ts";

export type Session = {
  token: string;
  expiresAt: string;
  anonymousId: string;
  customerId: string;
  verified: boolean;
  online: boolean;
  emailKnown: boolean;
};

export type ChatMessage = {
  id: string;
  conversationId: string;
  direction: "inbound" | "outbound";
  text: string;
  deliveryId: string | null;
  createdAt: string;
  clientId?: string;
  partial?: boolean;
};

export type Conversation = { id: string; status: string; createdAt: string; lastMessageAt: string };

export type InAppMessage = {
  id: string;
  title: string | null;
  body: string;
  state: "unread" | "read" | "archived" | "deleted";
  createdAt: string;
};

/** An error the API answered, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = "/widget/v1";

export class Api {
  session: Session | null = null;
  #starting: Promise<Session> | null = null;

  constructor(
    private settings: VisitorSettings,
    private page: PageInfo,
    private readonly storageKey: string,
  ) {}

  /** Changes who the visitor is (the brand's page identified or signed out): a new session follows. */
  reset(settings: VisitorSettings, forget: boolean): void {
    this.settings = settings;
    this.session = null;
    if (forget) {
      try {
        localStorage.removeItem(this.storageKey);
      } catch {
        // nothing was kept
      }
    }
  }

  /** Starts (or resumes, with the kept anonymous id) the visitor's session. */
  start(): Promise<Session> {
    if (!this.#starting) {
      this.#starting = this.#start().finally(() => {
        this.#starting = null;
      });
    }
    return this.#starting;
  }

  async #start(): Promise<Session> {
    let anonymousId: string | undefined;
    try {
      anonymousId = localStorage.getItem(this.storageKey) ?? undefined;
    } catch {
      anonymousId = undefined;
    }
    const { locale: _locale, ...who } = this.settings;
    const body = { ...who, ...this.page, ...(anonymousId ? { anonymousId } : {}) };
    const session = await this.#fetch<Session>("POST", "/sessions", body, false);
    try {
      localStorage.setItem(this.storageKey, session.anonymousId);
    } catch {
      // a browser without storage is a new visitor on every page
    }
    this.session = session;
    return session;
  }

  async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    if (!this.session) await this.start();
    try {
      return await this.#fetch<T>(method, path, body, true);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "chat.token_unauthorized") throw err;
      await this.start();
      return this.#fetch<T>(method, path, body, true);
    }
  }

  async #fetch<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (auth && this.session) headers.authorization = `Bearer ${this.session.token}`;
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      throw new ApiError(res.status, json.error?.code ?? "unknown", json.error?.message ?? res.statusText);
    }
    return json as T;
  }
}
