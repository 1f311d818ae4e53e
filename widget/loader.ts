// The chat widget's loader: the one script the brand's page includes. It stays small (a few
// KB): it draws the launcher button and opens the chat app in an iframe on Rapport's origin,
// so the brand's page never runs the chat's code nor sees the visitor's conversation.
//
//   <script async src="https://rapport.example/widget/v1/loader.js"
//           data-workspace="WORKSPACE_ID" data-inbox="INBOX_ID"></script>
//
// Settings may also come from `window.RapportChat = { workspaceId, inboxId, userId, userHash,
// email, name, locale }` set before the script. Afterwards `window.RapportChat` is the API:
// open(), close(), toggle(), identify({ userId, userHash, email, name }), shutdown().

import {
  CHANNEL,
  ours,
  type PageInfo,
  type ToFrame,
  type ToLoader,
  type VisitorSettings,
} from "./protocol.ts";

type Api = {
  open(): void;
  close(): void;
  toggle(): void;
  identify(settings: Partial<VisitorSettings>): void;
  /** The visitor signed out: forget them in this browser and start again as a new visitor. */
  shutdown(): void;
};

type Win = Window & { RapportChat?: Partial<VisitorSettings> | Api; __rapportChat?: boolean };

const LABELS = {
  en: { open: "Open chat", close: "Close chat", frame: "Chat with us", unread: "unread" },
  fr: { open: "Ouvrir le chat", close: "Fermer le chat", frame: "Discutez avec nous", unread: "non lus" },
};

const ICON_CHAT =
  '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
const ICON_CLOSE =
  '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z"/></svg>';

function settingsFrom(
  script: HTMLScriptElement | null,
  pre: Partial<VisitorSettings>,
): VisitorSettings | null {
  const d = script?.dataset ?? {};
  const pick = (a: string | undefined, b: string | undefined) => a || b || undefined;
  const workspaceId = pick(pre.workspaceId, d.workspace);
  const inboxId = pick(pre.inboxId, d.inbox);
  if (!workspaceId || !inboxId) return null;
  const s: VisitorSettings = { workspaceId, inboxId };
  const optional = {
    userId: pick(pre.userId, d.userId),
    userHash: pick(pre.userHash, d.userHash),
    email: pick(pre.email, d.email),
    name: pick(pre.name, d.name),
    locale: pick(pre.locale, d.locale),
  };
  for (const [k, v] of Object.entries(optional)) if (v) (s as Record<string, string>)[k] = v;
  return s;
}

function pageInfo(): PageInfo {
  const utm: Record<string, string> = {};
  new URLSearchParams(location.search).forEach((v, k) => {
    if (k.startsWith("utm_") && Object.keys(utm).length < 10) utm[k.slice(4, 44)] = v.slice(0, 200);
  });
  const page: PageInfo = { pageUrl: location.href.slice(0, 2000) };
  if (document.referrer) page.referrer = document.referrer.slice(0, 2000);
  if (Object.keys(utm).length > 0) page.utm = utm;
  return page;
}

function boot(): void {
  const win = window as Win;
  if (win.__rapportChat) return;
  const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
  const pre = win.RapportChat && !("open" in win.RapportChat) ? win.RapportChat : {};
  let settings = settingsFrom(script, pre);
  if (!settings || !script) {
    console.warn("Rapport chat: give the loader data-workspace and data-inbox (or window.RapportChat).");
    return;
  }
  win.__rapportChat = true;
  const origin = new URL(script.src).origin;
  const lang = (settings.locale ?? navigator.language ?? "en").toLowerCase().startsWith("fr") ? "fr" : "en";
  const t = LABELS[lang];
  const engagedKey = `rapport-chat:${settings.inboxId}:engaged`;
  const phone = window.matchMedia("(max-width: 480px)");

  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "rapport-chat-frame");
  Object.assign(button.style, {
    position: "fixed",
    right: "20px",
    bottom: "20px",
    width: "56px",
    height: "56px",
    borderRadius: "50%",
    border: "0",
    padding: "0",
    background: "#1d4ed8",
    color: "#fff",
    boxShadow: "0 4px 12px rgba(0,0,0,.25)",
    cursor: "pointer",
    zIndex: "2147483000",
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
  });
  const badge = document.createElement("span");
  Object.assign(badge.style, {
    position: "absolute",
    top: "-4px",
    right: "-4px",
    minWidth: "20px",
    height: "20px",
    borderRadius: "10px",
    background: "#b91c1c",
    color: "#fff",
    font: "bold 12px/20px system-ui,sans-serif",
    textAlign: "center",
    display: "none",
  });

  let frame: HTMLIFrameElement | null = null;
  let frameReady = false;
  let open = false;
  let unread = 0;
  const queued: ToFrame[] = [];

  const post = (message: ToFrame) => {
    if (frame?.contentWindow && frameReady) frame.contentWindow.postMessage(message, origin);
    else queued.push(message);
  };

  const drawButton = () => {
    button.innerHTML = open ? ICON_CLOSE : ICON_CHAT;
    button.setAttribute(
      "aria-label",
      open ? t.close : unread > 0 ? `${t.open} (${unread} ${t.unread})` : t.open,
    );
    button.setAttribute("aria-expanded", String(open));
    badge.textContent = String(unread);
    badge.style.display = unread > 0 && !open ? "block" : "none";
    button.appendChild(badge);
    // on a phone the open chat covers the screen and has its own close button
    button.style.display = open && phone.matches ? "none" : "flex";
  };

  const placeFrame = () => {
    if (!frame) return;
    const common = { position: "fixed", border: "0", zIndex: "2147483001", background: "#fff" };
    Object.assign(
      frame.style,
      common,
      phone.matches
        ? { inset: "0", width: "100%", height: "100%", borderRadius: "0", boxShadow: "none" }
        : {
            inset: "auto",
            right: "20px",
            bottom: "88px",
            width: "380px",
            height: "min(640px, calc(100vh - 108px))",
            borderRadius: "16px",
            boxShadow: "0 8px 32px rgba(0,0,0,.25)",
          },
    );
    frame.style.display = open ? "block" : "none";
  };

  const ensureFrame = () => {
    if (frame || !settings) return;
    frame = document.createElement("iframe");
    frame.id = "rapport-chat-frame";
    frame.title = t.frame;
    const q = new URLSearchParams({ workspace: settings.workspaceId, inbox: settings.inboxId, lang });
    frame.src = `${origin}/widget/v1/frame?${q}`;
    placeFrame();
    document.body.appendChild(frame);
  };

  const show = (next: boolean) => {
    if (next === open) return;
    open = next;
    if (open) {
      ensureFrame();
      unread = 0;
    }
    placeFrame();
    drawButton();
    post({ channel: CHANNEL, type: open ? "open" : "closed" });
    if (open) frame?.focus();
    else button.focus();
  };

  window.addEventListener("message", (event: MessageEvent) => {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow || !ours(event.data))
      return;
    const m = event.data as ToLoader;
    if (m.type === "ready" && settings) {
      frameReady = true;
      frame.contentWindow?.postMessage(
        { channel: CHANNEL, type: "boot", settings, page: pageInfo() },
        origin,
      );
      if (open) queued.push({ channel: CHANNEL, type: "open" });
      for (const q of queued.splice(0)) frame.contentWindow?.postMessage(q, origin);
    } else if (m.type === "close") {
      show(false);
    } else if (m.type === "unread") {
      unread = open ? 0 : Math.max(0, Math.min(99, m.count));
      drawButton();
    } else if (m.type === "theme" && /^#[0-9a-f]{6}$/i.test(m.color)) {
      button.style.background = m.color;
    } else if (m.type === "engaged") {
      try {
        localStorage.setItem(engagedKey, "1");
      } catch {
        // storage may be off: the chat then loads on the first click only
      }
    }
  });

  button.addEventListener("click", () => show(!open));
  phone.addEventListener?.("change", () => {
    placeFrame();
    drawButton();
  });

  win.RapportChat = {
    open: () => show(true),
    close: () => show(false),
    toggle: () => show(!open),
    identify: (more) => {
      if (!settings) return;
      settings = { ...settings, ...more, workspaceId: settings.workspaceId, inboxId: settings.inboxId };
      if (frame) post({ channel: CHANNEL, type: "identify", settings });
    },
    shutdown: () => {
      try {
        localStorage.removeItem(engagedKey);
      } catch {
        // nothing was kept
      }
      if (settings) settings = { workspaceId: settings.workspaceId, inboxId: settings.inboxId };
      if (frame) post({ channel: CHANNEL, type: "shutdown" });
      unread = 0;
      drawButton();
    },
  };

  const mount = () => {
    drawButton();
    document.body.appendChild(button);
    let engaged = false;
    try {
      engaged = localStorage.getItem(engagedKey) === "1";
    } catch {
      engaged = false;
    }
    // a visitor who chatted before gets replies and the unread badge on every page
    if (engaged) ensureFrame();
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}

boot();
