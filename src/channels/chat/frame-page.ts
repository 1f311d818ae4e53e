import { escapeHtml } from "../../pages/html.ts";
import type { ChatInbox } from "./settings.ts";

/** The languages the widget speaks. */
export type WidgetLang = "en" | "fr";

/** The visitor's language: the loader's choice, else the browser's Accept-Language; English by default. */
export function widgetLang(wanted: string | undefined, acceptLanguage: string | undefined): WidgetLang {
  const first = (wanted || acceptLanguage || "en").trim().toLowerCase();
  return first.startsWith("fr") ? "fr" : "en";
}

const NOSCRIPT = {
  en: "The chat needs JavaScript. You can also reach us by email.",
  fr: "Le chat a besoin de JavaScript. Vous pouvez aussi nous écrire par e-mail.",
};

/**
 * The frame's HTML: a shell that loads the bundled app (versioned URLs, cached for good) and
 * hands it the inbox's public settings as JSON. Secrets of the inbox never reach it.
 */
export function framePage(
  chat: ChatInbox,
  workspaceId: string,
  lang: WidgetLang,
  versions: { js: string; css: string },
): string {
  const config = {
    workspaceId,
    inboxId: chat.inbox.id,
    inboxName: chat.inbox.name,
    greeting: chat.settings.greeting,
    color: chat.settings.color,
    lang,
  };
  // JSON inside <script> must not close the element: "<" is written as an escape
  const json = JSON.stringify(config).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(chat.inbox.name)}</title>
<link rel="stylesheet" href="/widget/v1/frame.css?v=${versions.css}">
<script id="rapport-config" type="application/json">${json}</script>
<script defer src="/widget/v1/frame.js?v=${versions.js}"></script>
</head>
<body>
<noscript><p>${escapeHtml(NOSCRIPT[lang])}</p></noscript>
</body>
</html>
`;
}

/**
 * The frame's Content-Security-Policy: its own scripts, styles, API and socket only, embeddable by
 * the inbox's allowed origins (any site when none is set: the widget shows a visitor only
 * their own conversation).
 */
export function frameCsp(chat: ChatInbox, socketOrigin: string): string {
  const ancestors = chat.settings.allowedOrigins.length > 0 ? chat.settings.allowedOrigins.join(" ") : "*";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    // 'self' covers WebSockets only in recent browsers: the socket's origin is named too
    `connect-src 'self'${socketOrigin ? ` ${socketOrigin}` : ""}`,
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors}`,
  ].join("; ");
}
