import { consentOverview } from "../consent/ledger.ts";
import { allowedLanguages, loadCustomer } from "../consent/preferences.ts";
import { getMessagingSettings } from "../consent/settings.ts";
import type { Channel, QuietHours } from "../consent/tables.ts";
import type { Db } from "../db/client.ts";
import { getWorkspace } from "../platform/workspaces.ts";
import { html, type SafeHtml } from "./html.ts";
import { pcShell } from "./preference-center-shell.ts";
import {
  languageName,
  localized,
  type PageLang,
  pickLanguage,
  STRINGS,
} from "./preference-center-strings.ts";

/** Everything the preference page shows, read fresh for each request. */
export type PageModel = {
  lang: PageLang;
  brand: string;
  /** Where the form posts (the page's own URL). */
  action: string;
  /** Visible marketing topics × the channels the customer can be reached on. */
  topics: Array<{
    id: string;
    name: string;
    description: string;
    cells: Array<{ channel: Channel; subscribed: boolean }>;
  }>;
  /** Visible transactional topics: listed, not choosable. */
  service: Array<{ name: string; description: string }>;
  pausedUntil: Date | null;
  quietHours: QuietHours | null;
  /** The time zone in use (chosen or derived), shown and prefilled. */
  timezone: string;
  /** The language in use, preselected. */
  language: string;
  languages: string[];
  questions: Array<{
    key: string;
    label: string;
    multiple: boolean;
    options: Array<{ value: string; label: string; checked: boolean }>;
  }>;
  notice?: string | undefined;
  error?: string | undefined;
};

/** Reads what the page shows for a customer; the language follows `pickLanguage`. */
export async function loadPageModel(
  db: Db,
  workspaceId: string,
  customerId: string,
  opts: { action: string; acceptLanguage: string | undefined },
): Promise<PageModel> {
  const [overview, settings, customer, workspace] = await Promise.all([
    consentOverview(db, workspaceId, customerId),
    getMessagingSettings(db, workspaceId),
    loadCustomer(db, workspaceId, customerId),
    getWorkspace(db, workspaceId),
  ]);
  const lang = pickLanguage(overview.preferences.language, opts.acceptLanguage, settings.defaultLanguage);
  const visible = overview.topics.filter((t) => t.visible);
  const answerOf = (key: string): string[] => {
    const v = customer.traits[key];
    if (typeof v === "string") return [v];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  };
  return {
    lang,
    brand: workspace?.name ?? "",
    action: opts.action,
    topics: visible
      .filter((t) => t.kind === "marketing")
      .map((t) => ({
        id: t.id,
        name: localized(t.names, lang, t.key),
        description: localized(t.descriptions, lang),
        cells: overview.reachableChannels.map((channel) => ({
          channel,
          subscribed: t.channels[channel]?.subscribed ?? false,
        })),
      })),
    service: visible
      .filter((t) => t.kind === "transactional")
      .map((t) => ({ name: localized(t.names, lang, t.key), description: localized(t.descriptions, lang) })),
    pausedUntil: overview.preferences.pausedUntil ? new Date(overview.preferences.pausedUntil) : null,
    quietHours: overview.preferences.quietHours,
    timezone: overview.timezone,
    language: overview.preferences.language ?? lang,
    languages: allowedLanguages(settings),
    questions: settings.questions.map((q) => {
      const held = answerOf(q.key);
      return {
        key: q.key,
        label: localized(q.labels, lang, q.key),
        multiple: q.multiple,
        options: q.options.map((o) => ({
          value: o.value,
          label: localized(o.labels, lang, o.value),
          checked: held.includes(o.value),
        })),
      };
    }),
  };
}

function formatDate(d: Date, lang: PageLang, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone }).format(d);
}

function topicsSection(m: PageModel): SafeHtml {
  const s = STRINGS[m.lang];
  const hasCells = m.topics.some((t) => t.cells.length > 0);
  const body = !hasCells
    ? html`<p>${s.noChannels}</p>`
    : m.topics.map((t, i) => {
        const descId = `t${i}-d`;
        return html`<fieldset aria-describedby="${descId}"><legend>${t.name}</legend>
<p class="desc" id="${descId}">${t.description}</p><div class="opts">${t.cells.map((c, j) => {
          const id = `t${i}-${j}`;
          const value = `${c.channel}:${t.id}`;
          return html`<div class="opt"><input type="hidden" name="shown" value="${value}"><input type="checkbox" id="${id}" name="sub" value="${value}"${c.subscribed ? html` checked` : ""}><label for="${id}">${s.channels[c.channel]}</label></div>`;
        })}</div></fieldset>`;
      });
  return html`<section class="card" aria-labelledby="h-topics"><h2 id="h-topics">${s.topicsHeading}</h2>${body}</section>`;
}

function radio(name: string, id: string, value: string, label: string, checked: boolean): SafeHtml {
  return html`<div class="opt"><input type="radio" id="${id}" name="${name}" value="${value}"${checked ? html` checked` : ""}><label for="${id}">${label}</label></div>`;
}

function pauseSection(m: PageModel, now: Date): SafeHtml {
  const s = STRINGS[m.lang];
  const paused = m.pausedUntil && m.pausedUntil.getTime() > now.getTime() ? m.pausedUntil : null;
  const date = paused ? formatDate(paused, m.lang, m.timezone) : "";
  return html`<section class="card" aria-labelledby="h-pause"><h2 id="h-pause">${s.pauseHeading}</h2>
${paused ? html`<p role="status">${s.pausedUntil(date)}</p>` : ""}<fieldset><legend>${s.pauseLegend}</legend><div class="opts">
${paused ? radio("pause", "p-keep", "keep", s.pauseKeep(date), true) : ""}${radio("pause", "p-none", "none", s.pauseNone, !paused)}${radio("pause", "p-1w", "1w", s.pause1w, false)}${radio("pause", "p-1m", "1m", s.pause1m, false)}${radio("pause", "p-3m", "3m", s.pause3m, false)}
</div></fieldset></section>`;
}

function quietSection(m: PageModel): SafeHtml {
  const s = STRINGS[m.lang];
  return html`<section class="card" aria-labelledby="h-quiet"><h2 id="h-quiet">${s.quietHeading}</h2>
<p class="hint" id="q-hint">${s.quietHint(m.timezone)}</p>
<div class="row"><div><label class="field" for="quietStart">${s.quietFrom}</label><input type="time" id="quietStart" name="quietStart" value="${m.quietHours?.start ?? ""}" aria-describedby="q-hint"></div>
<div><label class="field" for="quietEnd">${s.quietTo}</label><input type="time" id="quietEnd" name="quietEnd" value="${m.quietHours?.end ?? ""}" aria-describedby="q-hint"></div></div>
<label class="field" for="timezone">${s.timezone}</label>
<input type="text" id="timezone" name="timezone" value="${m.timezone}" autocomplete="off" spellcheck="false" aria-describedby="tz-hint">
<p class="hint" id="tz-hint">${s.timezoneHint}</p>
<label class="field" for="language">${s.language}</label>
<select id="language" name="language">${m.languages.map(
    (l) =>
      html`<option value="${l}"${l === m.language ? html` selected` : ""}>${languageName(l, m.lang)}</option>`,
  )}</select></section>`;
}

function questionsSection(m: PageModel): SafeHtml | "" {
  if (m.questions.length === 0) return "";
  const s = STRINGS[m.lang];
  return html`<section class="card" aria-labelledby="h-q"><h2 id="h-q">${s.questionsHeading}</h2>${m.questions.map(
    (q, i) =>
      html`<fieldset><legend>${q.label}</legend><input type="hidden" name="asked" value="${q.key}"><div class="opts">${q.options.map(
        (o, j) => {
          const id = `q${i}-${j}`;
          return html`<div class="opt"><input type="${q.multiple ? "checkbox" : "radio"}" id="${id}" name="q.${q.key}" value="${o.value}"${o.checked ? html` checked` : ""}><label for="${id}">${o.label}</label></div>`;
        },
      )}</div></fieldset>`,
  )}</section>`;
}

/** The preference center: a plain form that works without JavaScript, one column on phones. */
export function preferencePage(m: PageModel, now: Date = new Date()): string {
  const s = STRINGS[m.lang];
  return pcShell({
    lang: m.lang,
    title: s.title,
    brand: m.brand,
    body: html`<h1>${s.title}</h1><p>${s.intro(m.brand || "Rapport")}</p>
${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : ""}${m.error ? html`<p class="error" role="alert">${m.error}</p>` : ""}
<form method="post" action="${m.action}">
${topicsSection(m)}
${m.service.length > 0 ? html`<section class="card" aria-labelledby="h-service"><h2 id="h-service">${s.serviceHeading}</h2><p class="desc">${s.serviceNote}</p><ul>${m.service.map((t) => html`<li><strong>${t.name}</strong>${t.description ? html` — ${t.description}` : ""}</li>`)}</ul></section>` : ""}
${pauseSection(m, now)}
${quietSection(m)}
${questionsSection(m)}
<button type="submit">${s.save}</button>
</form>`,
  });
}
