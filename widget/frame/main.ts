// The chat app inside the iframe: starts the visitor's session, shows their conversation and
// message center, sends their messages, and listens live for replies and typing.

import {
  CHANNEL,
  ours,
  type PageInfo,
  type ToFrame,
  type ToLoader,
  type VisitorSettings,
} from "../protocol.ts";
import { Api, type ChatMessage, type Conversation, type InAppMessage } from "./api.ts";
import { ChatView } from "./chat-view.ts";
import { CLOSE_PATH, el, icon } from "./dom.ts";
import { InboxView } from "./inbox-view.ts";
import { Live, type LiveEvent } from "./live.ts";
import { pickLang, stringsFor } from "./strings.ts";

type Config = {
  workspaceId: string;
  inboxId: string;
  inboxName: string;
  greeting: { en?: string; fr?: string };
  color: string;
  lang: string;
};

const configNode = document.getElementById("rapport-config");
const config = JSON.parse(configNode?.textContent ?? "{}") as Config;
const embedded = window.parent !== window;
let parentOrigin = "*";
let open = !embedded;

function toLoader(message: ToLoader): void {
  if (embedded) window.parent.postMessage(message, parentOrigin);
}

function uuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The brand's page says who the visitor is and where; a frame opened on its own waits for nobody. */
function waitForBoot(): Promise<{ settings: VisitorSettings; page: PageInfo }> {
  const fallback = {
    settings: { workspaceId: config.workspaceId, inboxId: config.inboxId },
    page: { pageUrl: document.referrer || location.href },
  };
  if (!embedded) return Promise.resolve(fallback);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), 3000);
    window.addEventListener("message", function onBoot(e: MessageEvent) {
      if (e.source !== window.parent || !ours(e.data) || e.data.type !== "boot") return;
      const m = e.data as Extract<ToFrame, { type: "boot" }>;
      clearTimeout(timer);
      window.removeEventListener("message", onBoot);
      parentOrigin = e.origin;
      // the page may not switch the frame to another inbox than the one it was opened for
      resolve({
        settings: { ...m.settings, workspaceId: config.workspaceId, inboxId: config.inboxId },
        page: m.page,
      });
    });
    toLoader({ channel: CHANNEL, type: "ready" });
  });
}

async function main(): Promise<void> {
  const { settings, page } = await waitForBoot();
  const lang = pickLang(settings.locale ?? config.lang);
  const t = stringsFor(lang);
  document.documentElement.lang = lang;
  document.documentElement.style.setProperty("--brand", config.color);
  toLoader({ channel: CHANNEL, type: "theme", color: config.color });

  const api = new Api(settings, page, `rapport-chat:${config.inboxId}:anonymous-id`);
  let conversationId: string | undefined;
  let emailAsked = false;
  let unread = 0;
  const drafts = new Map<string, string>();
  const acks = new Set<string>();
  let lastTyping = 0;
  let typingOff: ReturnType<typeof setTimeout> | undefined;

  const status = el("p", { class: "status" }, "");
  const closeButton = embedded
    ? el("button", { type: "button", class: "icon close", "aria-label": t.close }, icon(CLOSE_PATH))
    : null;
  closeButton?.addEventListener("click", () => toLoader({ channel: CHANNEL, type: "close" }));
  const header = el(
    "header",
    { class: "head" },
    el("div", { class: "head-text" }, el("h1", {}, config.inboxName || t.title), status),
    closeButton,
  );

  const send = async (text: string, clientId: string) => {
    drafts.set(clientId, text);
    try {
      const r = await api.call<{ conversationId: string; message: ChatMessage }>("POST", "/messages", {
        text,
        clientId,
        ...page,
      });
      drafts.delete(clientId);
      conversationId = r.conversationId;
      chat.sent(clientId, r.message);
      toLoader({ channel: CHANNEL, type: "engaged" });
      const s = api.session;
      if (s && !s.online && !s.emailKnown && !emailAsked) {
        emailAsked = true;
        chat.askEmail(true);
      }
    } catch {
      chat.failed(clientId);
    }
  };

  const chat = new ChatView(t, lang, config.greeting[lang] ?? t.greeting, {
    send: (text) => {
      const clientId = uuid();
      chat.pending(clientId, text);
      stopTyping();
      void send(text, clientId);
    },
    retry: (clientId) => {
      const text = drafts.get(clientId);
      if (text !== undefined) void send(text, clientId);
    },
    typing: () => {
      if (!conversationId) return;
      const now = Date.now();
      if (now - lastTyping > 2500) {
        lastTyping = now;
        live.send({ type: "typing", conversationId, typing: true });
      }
      clearTimeout(typingOff);
      typingOff = setTimeout(stopTyping, 4000);
    },
    email: async (address) => {
      try {
        await api.call("POST", "/email", { email: address });
        if (api.session) api.session.emailKnown = true;
        chat.emailSaved(address);
      } catch {
        chat.emailFailed(t.emailInvalid);
      }
    },
  });
  const stopTyping = () => {
    clearTimeout(typingOff);
    if (lastTyping && conversationId) live.send({ type: "typing", conversationId, typing: false });
    lastTyping = 0;
  };

  const inbox = new InboxView(t, lang, async (id) => {
    await api.call("POST", `/inbox/${id}/read`).catch(() => undefined);
    inbox.markRead(id);
    drawTabs();
  });
  const tabChat = el("button", { type: "button", role: "tab", id: "rapport-tab-chat" }, t.tabChat);
  const tabMessages = el(
    "button",
    { type: "button", role: "tab", id: "rapport-tab-messages" },
    t.tabMessages,
  );
  const tabs = el(
    "div",
    { class: "tabs", role: "tablist", "aria-label": t.tabs, hidden: true },
    tabChat,
    tabMessages,
  );
  let current: "chat" | "messages" = "chat";
  const drawTabs = () => {
    const n = inbox.unread;
    tabMessages.textContent = n > 0 ? `${t.tabMessages} (${n})` : t.tabMessages;
    for (const [tab, panel, name] of [
      [tabChat, chat.root, "chat"],
      [tabMessages, inbox.root, "messages"],
    ] as const) {
      const on = current === name;
      tab.setAttribute("aria-selected", String(on));
      tab.setAttribute("aria-controls", panel.id);
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
      if (!tabs.hidden) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.id);
      }
    }
  };
  const select = (which: "chat" | "messages") => {
    current = which;
    drawTabs();
    (which === "chat" ? tabChat : tabMessages).focus();
  };
  tabChat.addEventListener("click", () => select("chat"));
  tabMessages.addEventListener("click", () => select("messages"));
  tabs.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") select(current === "chat" ? "messages" : "chat");
  });

  document.body.append(el("div", { class: "app" }, header, tabs, chat.root, inbox.root));

  const flushAcks = async (attempt = 0) => {
    if (!open || document.visibilityState !== "visible" || acks.size === 0) return;
    const ids = [...acks].slice(0, 50);
    try {
      const r = await api.call<{ recorded: string[]; pending: string[] }>("POST", "/seen", {
        deliveryIds: ids,
      });
      for (const id of ids) if (!r.pending.includes(id)) acks.delete(id);
      if (r.pending.length > 0 && attempt < 3) setTimeout(() => void flushAcks(attempt + 1), 2000);
    } catch {
      // the fallback email is the worst that can happen
    }
  };

  const showMessage = (m: ChatMessage) => {
    if (!chat.show(m) || m.direction !== "outbound" || !m.deliveryId) return;
    acks.add(m.deliveryId);
    if (open && document.visibilityState === "visible") void flushAcks();
    else {
      unread += 1;
      toLoader({ channel: CHANNEL, type: "unread", count: unread });
    }
  };

  const loadConversation = async (id: string) => {
    conversationId = id;
    const messages = await api.call<{ data: ChatMessage[] }>("GET", `/conversations/${id}/messages`);
    for (const m of messages.data) showMessage(m);
  };

  const onLive = (e: LiveEvent) => {
    if (e.type === "message") {
      if (e.partial || (conversationId && e.conversationId !== conversationId)) {
        const id = e.conversationId;
        void loadConversation(id);
        // a long reply is announced while it is still being recorded as sent: look again
        if (e.partial) for (const ms of [1500, 5000]) setTimeout(() => void loadConversation(id), ms);
      } else {
        conversationId = e.conversationId;
        showMessage(e);
      }
    } else if (e.type === "typing") {
      if (!conversationId || e.conversationId === conversationId) chat.typing(e.typing);
    } else if (e.type === "inbox" && e.event.type === "message" && e.event.message) {
      inbox.upsert(e.event.message);
      drawTabs();
    }
  };

  const live = new Live(
    async () => (api.session ?? (await api.start())).token,
    onLive,
    (connected) => status.classList.toggle("reconnecting", !connected),
    async () => {
      await api.start();
    },
  );

  window.addEventListener("message", (e: MessageEvent) => {
    if (e.source !== window.parent || !ours(e.data)) return;
    const m = e.data as ToFrame;
    if (m.type === "open") {
      open = true;
      unread = 0;
      toLoader({ channel: CHANNEL, type: "unread", count: 0 });
      void flushAcks();
      chat.focus();
    } else if (m.type === "closed") {
      open = false;
    } else if (m.type === "identify" || m.type === "shutdown") {
      // a new visitor (or the same, signed in): start again from the page's new settings
      api.reset(settings, m.type === "shutdown");
      live.stop();
      location.reload();
    }
  });
  document.addEventListener("visibilitychange", () => void flushAcks());
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") toLoader({ channel: CHANNEL, type: "close" });
  });

  try {
    const session = await api.start();
    status.textContent = session.online ? t.online : t.offline;
    const conversations = await api.call<{ data: Conversation[] }>("GET", "/conversations");
    const latest = conversations.data[0];
    if (latest) await loadConversation(latest.id);
    if (session.verified) {
      tabs.hidden = false;
      const messages = await api.call<{ data: InAppMessage[] }>("GET", "/inbox");
      inbox.set(messages.data);
    }
    drawTabs();
    await live.connect();
  } catch {
    status.textContent = t.error;
  }
  if (open) chat.focus();
}

void main();
