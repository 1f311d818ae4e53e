import type { Channel } from "../consent/tables.ts";

/** The languages the public preference pages are written in. */
export type PageLang = "en" | "fr";

const en = {
  title: "Your preferences",
  intro: (brand: string) => `Choose which messages ${brand} sends you, and how.`,
  topicsHeading: "What you receive",
  serviceHeading: "Service messages",
  serviceNote:
    "These concern your account and our service; we send them when needed, whatever you choose above.",
  noChannels: "We have no way to reach you yet, so there is nothing to choose here.",
  pauseHeading: "Take a break",
  pauseLegend: "Pause every marketing message",
  pausedUntil: (date: string) => `Paused until ${date}.`,
  pauseKeep: (date: string) => `Keep the pause until ${date}`,
  pauseNone: "No pause",
  pause1w: "For 1 week",
  pause1m: "For 1 month",
  pause3m: "For 3 months",
  quietHeading: "Quiet hours",
  quietHint: (tz: string) => `No marketing messages between these times (${tz}). Leave both empty for none.`,
  quietFrom: "From",
  quietTo: "To",
  timezone: "Your time zone",
  timezoneHint: "For example Europe/Paris or America/New_York.",
  language: "Language",
  questionsHeading: "Tell us about you",
  save: "Save my choices",
  saved: "Your choices are saved.",
  unchanged: "Nothing changed.",
  channels: {
    email: "Email",
    sms: "SMS",
    whatsapp: "WhatsApp",
    push: "Push notifications",
    in_app: "In the app",
    messenger: "Messenger",
    instagram: "Instagram",
    x: "X",
  } satisfies Record<Channel, string>,
  unsubscribeTitle: "Unsubscribe",
  unsubscribeQuestion: (what: string) => `Stop receiving ${what}?`,
  unsubscribeButton: "Unsubscribe",
  unsubscribedTitle: "You are unsubscribed",
  unsubscribed: (what: string) => `You will no longer receive ${what}.`,
  allMessages: "our marketing messages",
  topicOn: (topic: string, channel: string) => `“${topic}” by ${channel}`,
  topicAnywhere: (topic: string) => `“${topic}” messages`,
  channelAll: (channel: string) => `marketing messages by ${channel}`,
  manage: "Manage all your preferences",
  invalidTitle: "This link no longer works",
  invalidMessage:
    "The link has expired or was changed. Enter your email address and we will send you a fresh link if we know it.",
  email: "Email address",
  sendLink: "Send me a new link",
  sentTitle: "Check your inbox",
  sentMessage: "If this address is known to us, a new link is on its way. It may take a few minutes.",
  errorTitle: "That did not work",
  oneClickDone: "You are unsubscribed.",
};

const fr: typeof en = {
  title: "Vos préférences",
  intro: (brand: string) => `Choisissez les messages que ${brand} vous envoie, et comment.`,
  topicsHeading: "Ce que vous recevez",
  serviceHeading: "Messages de service",
  serviceNote:
    "Ils concernent votre compte et notre service ; nous les envoyons si nécessaire, quels que soient vos choix ci-dessus.",
  noChannels: "Nous n'avons encore aucun moyen de vous joindre : rien à choisir ici.",
  pauseHeading: "Faire une pause",
  pauseLegend: "Suspendre tous les messages marketing",
  pausedUntil: (date: string) => `En pause jusqu'au ${date}.`,
  pauseKeep: (date: string) => `Garder la pause jusqu'au ${date}`,
  pauseNone: "Pas de pause",
  pause1w: "Pendant 1 semaine",
  pause1m: "Pendant 1 mois",
  pause3m: "Pendant 3 mois",
  quietHeading: "Heures calmes",
  quietHint: (tz: string) =>
    `Aucun message marketing entre ces heures (${tz}). Laissez les deux vides pour n'en avoir aucune.`,
  quietFrom: "De",
  quietTo: "À",
  timezone: "Votre fuseau horaire",
  timezoneHint: "Par exemple Europe/Paris ou America/Montreal.",
  language: "Langue",
  questionsHeading: "Parlez-nous de vous",
  save: "Enregistrer mes choix",
  saved: "Vos choix sont enregistrés.",
  unchanged: "Rien n'a changé.",
  channels: {
    email: "E-mail",
    sms: "SMS",
    whatsapp: "WhatsApp",
    push: "Notifications push",
    in_app: "Dans l'application",
    messenger: "Messenger",
    instagram: "Instagram",
    x: "X",
  },
  unsubscribeTitle: "Se désabonner",
  unsubscribeQuestion: (what: string) => `Ne plus recevoir ${what} ?`,
  unsubscribeButton: "Me désabonner",
  unsubscribedTitle: "Vous êtes désabonné·e",
  unsubscribed: (what: string) => `Vous ne recevrez plus ${what}.`,
  allMessages: "nos messages marketing",
  topicOn: (topic: string, channel: string) => `« ${topic} » par ${channel}`,
  topicAnywhere: (topic: string) => `les messages « ${topic} »`,
  channelAll: (channel: string) => `les messages marketing par ${channel}`,
  manage: "Gérer toutes vos préférences",
  invalidTitle: "Ce lien ne fonctionne plus",
  invalidMessage:
    "Le lien a expiré ou a été modifié. Indiquez votre adresse e-mail : si nous la connaissons, nous vous enverrons un nouveau lien.",
  email: "Adresse e-mail",
  sendLink: "M'envoyer un nouveau lien",
  sentTitle: "Consultez votre boîte de réception",
  sentMessage:
    "Si nous connaissons cette adresse, un nouveau lien est en route. Cela peut prendre quelques minutes.",
  errorTitle: "Cela n'a pas fonctionné",
  oneClickDone: "Vous êtes désabonné·e.",
};

export type Strings = typeof en;
export const STRINGS: Record<PageLang, Strings> = { en, fr };

function asPageLang(tag: string | null | undefined): PageLang | undefined {
  const base = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return base === "en" || base === "fr" ? base : undefined;
}

/**
 * The page's language: the customer's chosen language, else the first language of the
 * browser's `Accept-Language` we speak (by weight), else the workspace's default, else English.
 */
export function pickLanguage(
  preferred: string | null | undefined,
  acceptLanguage: string | undefined,
  workspaceDefault: string | undefined,
): PageLang {
  const chosen = asPageLang(preferred);
  if (chosen) return chosen;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag ?? "", q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const lang = asPageLang(tag);
    if (lang) return lang;
  }
  return asPageLang(workspaceDefault) ?? "en";
}

/** A localised text from a `{ en, fr, … }` record: the page's language, then English, then any. */
export function localized(texts: Record<string, string>, lang: string, fallback = ""): string {
  return texts[lang] ?? texts.en ?? Object.values(texts)[0] ?? fallback;
}

/** The name of a language in the page's language (`fr` → "français" on a French page). */
export function languageName(code: string, lang: PageLang): string {
  try {
    const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
    return name ? name.charAt(0).toLocaleUpperCase(lang) + name.slice(1) : code;
  } catch {
    return code;
  }
}
