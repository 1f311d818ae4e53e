import { html, SafeHtml } from "./html.ts";
import { type PageLang, STRINGS } from "./preference-center-strings.ts";

// Public pages for customers: phone first (one column, 44px touch targets), visible focus,
// WCAG AA contrast, no scripts, no external requests, a few kilobytes.
const STYLE = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f5f6f8}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:0 0 .75rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:0 0 1rem}
fieldset{border:0;padding:0;margin:0 0 1.25rem;min-width:0}
legend{font-weight:600;padding:0}
.desc,.hint{color:#4b5563;font-size:.875rem;margin:.125rem 0 .5rem}
.opts{display:flex;flex-wrap:wrap;gap:.5rem}
.opt{display:flex;align-items:center;gap:.5rem;padding:0 .75rem;border:1px solid #8a929c;border-radius:8px;min-height:44px}
.opt input{width:1.25rem;height:1.25rem;margin:0;flex:none}
.opt label{padding:.5rem 0;cursor:pointer}
label.field{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=email],input[type=time],select{width:100%;font:inherit;padding:.625rem;border:1px solid #8a929c;border-radius:8px;background:#fff;color:inherit}
.row{display:flex;gap:.75rem}.row>div{flex:1}
input:focus-visible,select:focus-visible,button:focus-visible,a:focus-visible,label:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
button{width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer;min-height:44px}
.notice{background:#e7f5ec;color:#14532d;border-radius:8px;padding:.75rem;margin:0 0 1rem}
.error{background:#fdecec;color:#8a1c1c;border-radius:8px;padding:.75rem;margin:0 0 1rem}
ul{padding-left:1.25rem;margin:.25rem 0}
a{color:#1d4ed8}`;

/** The shell of every preference page: language, phone viewport, no indexing, inline styles. */
export function pcShell(input: {
  lang: PageLang;
  title: string;
  brand?: string | undefined;
  body: SafeHtml;
}): string {
  const title = input.brand ? `${input.title} · ${input.brand}` : input.title;
  return `<!doctype html>${
    html`<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body><main>${input.body}</main></body>
</html>`.value
  }`;
}

/** A short page with a heading, a message and an optional link (confirmations, errors). */
export function noticePage(input: {
  lang: PageLang;
  title: string;
  message: string;
  link?: { href: string; text: string } | undefined;
  role?: "alert" | "status";
}): string {
  return pcShell({
    lang: input.lang,
    title: input.title,
    body: html`<div class="card"><h1>${input.title}</h1><p role="${input.role ?? "status"}">${input.message}</p>${
      input.link ? html`<p><a href="${input.link.href}">${input.link.text}</a></p>` : ""
    }</div>`,
  });
}

/**
 * The page for a link that is malformed, altered or expired (403): it explains, and offers
 * to send a fresh link to an email address, without saying whether the address is known.
 */
export function invalidLinkPage(lang: PageLang, renewAction: string): string {
  const s = STRINGS[lang];
  return pcShell({
    lang,
    title: s.invalidTitle,
    body: html`<div class="card"><h1>${s.invalidTitle}</h1><p role="alert">${s.invalidMessage}</p>
<form method="post" action="${renewAction}">
<label class="field" for="email">${s.email}</label>
<input type="email" id="email" name="email" autocomplete="email" required>
<p><button type="submit">${s.sendLink}</button></p>
</form></div>`,
  });
}

/** The same neutral answer whether or not the address belongs to a customer. */
export function linkSentPage(lang: PageLang): string {
  const s = STRINGS[lang];
  return noticePage({ lang, title: s.sentTitle, message: s.sentMessage });
}

/** The unsubscribe confirmation: one button that makes the one-click POST; GET never unsubscribes. */
export function unsubscribePage(input: {
  lang: PageLang;
  brand: string;
  what: string;
  action: string;
  manageHref: string;
}): string {
  const s = STRINGS[input.lang];
  return pcShell({
    lang: input.lang,
    title: s.unsubscribeTitle,
    brand: input.brand,
    body: html`<div class="card"><h1>${s.unsubscribeTitle}</h1><p>${s.unsubscribeQuestion(input.what)}</p>
<form method="post" action="${input.action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">${s.unsubscribeButton}</button>
</form>
<p><a href="${input.manageHref}">${s.manage}</a></p></div>`,
  });
}

/** After an unsubscribe from the page's button. */
export function unsubscribedPage(input: {
  lang: PageLang;
  brand: string;
  what: string;
  manageHref: string;
}): string {
  const s = STRINGS[input.lang];
  return pcShell({
    lang: input.lang,
    title: s.unsubscribedTitle,
    brand: input.brand,
    body: html`<div class="card"><h1>${s.unsubscribedTitle}</h1><p role="status">${s.unsubscribed(input.what)}</p>
<p><a href="${input.manageHref}">${s.manage}</a></p></div>`,
  });
}
