// Every string the app shows lives in a table per area (this file holds the shell's), in
// English and French. `localized` answers a table whose fields follow the agent's language:
// components read `t.send` as before, and the app re-renders from the top when it changes.

export type Language = "en" | "fr";
export const LANGUAGES: Language[] = ["en", "fr"];

let current: Language = "en";

/** The agent's language now. */
export function language(): Language {
  return current;
}

/** Switches every table to `lang`; the caller re-renders the app (it keys the tree by language). */
export function setLanguage(lang: Language): void {
  current = lang;
  if (typeof document !== "undefined") document.documentElement.lang = lang;
}

/** The language to start in before the agent chose one: the browser's, if we speak it. */
export function browserLanguage(): Language {
  const preferred = typeof navigator === "undefined" ? [] : navigator.languages;
  for (const tag of preferred) {
    const base = tag.slice(0, 2).toLowerCase();
    if (base === "en" || base === "fr") return base;
  }
  return "en";
}

/**
 * A table of strings in every language, read through the current one. French must name
 * every key English has (the type says so), so a missing translation fails the build.
 */
export function localized<T extends object>(tables: { en: T; fr: NoInfer<T> }): T {
  return new Proxy(tables.en, {
    get: (_target, key) => Reflect.get(tables[current], key),
  });
}

const CHANNELS: Record<Language, Record<string, string>> = {
  en: {
    sms: "SMS",
    whatsapp: "WhatsApp",
    email: "Email",
    chat: "Chat",
    messenger: "Messenger",
    instagram: "Instagram",
    x: "X",
    voice: "Voice",
    api: "API",
    in_app: "In-app",
    push: "Push",
  },
  fr: {
    sms: "SMS",
    whatsapp: "WhatsApp",
    email: "E-mail",
    chat: "Chat",
    messenger: "Messenger",
    instagram: "Instagram",
    x: "X",
    voice: "Voix",
    api: "API",
    in_app: "Dans l’app",
    push: "Push",
  },
};

const STATUSES: Record<Language, Record<string, string>> = {
  en: { open: "Open", pending: "Pending", snoozed: "Snoozed", resolved: "Resolved" },
  fr: { open: "Ouverte", pending: "En attente", snoozed: "En pause", resolved: "Résolue" },
};

const PRIORITIES: Record<Language, Record<string, string>> = {
  en: { none: "No priority", low: "Low", medium: "Medium", high: "High", urgent: "Urgent" },
  fr: { none: "Sans priorité", low: "Basse", medium: "Moyenne", high: "Haute", urgent: "Urgente" },
};

const DELIVERY: Record<Language, Record<string, string>> = {
  en: {
    skipped: "Not sent",
    deferred: "Waiting to send",
    queued: "Queued",
    sending: "Sending",
    sent: "Sent",
    delivered: "Delivered",
    failed: "Failed",
    bounced: "Bounced",
    opened: "Opened",
    clicked: "Clicked",
    read: "Read",
  },
  fr: {
    skipped: "Non envoyé",
    deferred: "En attente d’envoi",
    queued: "En file",
    sending: "Envoi…",
    sent: "Envoyé",
    delivered: "Remis",
    failed: "Échec",
    bounced: "Rejeté",
    opened: "Ouvert",
    clicked: "Cliqué",
    read: "Lu",
  },
};

const shellEn = {
  appName: "Rapport",
  inbox: "Inbox",
  search: "Search",
  simulator: "Customer simulator",
  admin: "Settings",
  mainNav: "Main",
  skipToContent: "Skip to the main content",
  signOut: "Sign out",
  languageLabel: "Language",
  languages: { en: "English", fr: "Français" } as Record<Language, string>,
  views: { mine: "Mine", unassigned: "Unassigned", all: "All" },
  viewsLabel: "Conversation views",
  conversations: "Conversations",
  noConversations: "No conversations here.",
  loading: "Loading…",
  loadFailed: "Could not load this; retrying.",
  notFound: "There is nothing at this address.",
  pickConversation: "Pick a conversation to read it.",
  back: "Back to the list",
  conversationTitle: (n: number) => `Conversation #${n}`,
  channel: (c: string | null) => (c ? (CHANNELS.en[c] ?? c) : "Unknown channel"),
  /** A conversation's channel: the chat widget's conversations are "in_app" underneath. */
  conversationChannel: (c: string | null) =>
    c === "in_app" ? "Chat" : c ? (CHANNELS.en[c] ?? c) : "Unknown channel",
  status: (s: string) => STATUSES.en[s] ?? s,
  priority: (p: string) => PRIORITIES.en[p] ?? p,
  messages: "Messages",
  noMessages: "No messages yet.",
  customer: "Customer",
  you: "Agent",
  note: "Private note",
  delivery: (state: string | null) => (state ? (DELIVERY.en[state] ?? state) : "Not sent"),
  replyLabel: "Your reply",
  replyPlaceholder: "Write a reply on this conversation's channel…",
  send: "Send",
  sending: "Sending…",
  sendFailed: (why: string) => `The reply was not sent: ${why}`,
  resolve: "Resolve",
  resolved: "Resolved",
  live: "Live",
  reconnecting: "Reconnecting…",
  unknownCustomer: "Unknown customer",
  customerPanel: "Customer details",
  adminOnly: "Only owners and admins can open the settings.",
  languageFailed: (why: string) => `The language was not saved: ${why}`,
};

export type Strings = typeof shellEn;

const shellFr: Strings = {
  appName: "Rapport",
  inbox: "Boîte de réception",
  search: "Recherche",
  simulator: "Simulateur client",
  admin: "Réglages",
  mainNav: "Principal",
  skipToContent: "Aller au contenu principal",
  signOut: "Se déconnecter",
  languageLabel: "Langue",
  languages: { en: "English", fr: "Français" },
  views: { mine: "Les miennes", unassigned: "Non assignées", all: "Toutes" },
  viewsLabel: "Vues des conversations",
  conversations: "Conversations",
  noConversations: "Aucune conversation ici.",
  loading: "Chargement…",
  loadFailed: "Chargement impossible ; nouvel essai en cours.",
  notFound: "Il n’y a rien à cette adresse.",
  pickConversation: "Choisissez une conversation pour la lire.",
  back: "Retour à la liste",
  conversationTitle: (n: number) => `Conversation n° ${n}`,
  channel: (c: string | null) => (c ? (CHANNELS.fr[c] ?? c) : "Canal inconnu"),
  conversationChannel: (c: string | null) =>
    c === "in_app" ? "Chat" : c ? (CHANNELS.fr[c] ?? c) : "Canal inconnu",
  status: (s: string) => STATUSES.fr[s] ?? s,
  priority: (p: string) => PRIORITIES.fr[p] ?? p,
  messages: "Messages",
  noMessages: "Pas encore de message.",
  customer: "Client",
  you: "Agent",
  note: "Note privée",
  delivery: (state: string | null) => (state ? (DELIVERY.fr[state] ?? state) : "Non envoyé"),
  replyLabel: "Votre réponse",
  replyPlaceholder: "Écrivez une réponse sur le canal de cette conversation…",
  send: "Envoyer",
  sending: "Envoi…",
  sendFailed: (why: string) => `La réponse n’a pas été envoyée : ${why}`,
  resolve: "Résoudre",
  resolved: "Résolue",
  live: "En direct",
  reconnecting: "Reconnexion…",
  unknownCustomer: "Client inconnu",
  customerPanel: "Fiche client",
  adminOnly: "Seuls les propriétaires et les administrateurs peuvent ouvrir les réglages.",
  languageFailed: (why: string) => `La langue n’a pas été enregistrée : ${why}`,
};

/** The shell's strings (and the shared names of channels, statuses, priorities, delivery states). */
export const t: Strings = localized({ en: shellEn, fr: shellFr });

/** The BCP 47 tag dates and numbers are formatted with. */
export function locale(): string {
  return current === "fr" ? "fr-FR" : "en-US";
}

/** A time as the agent reads it: the hour today, the date otherwise. */
export function formatTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(locale(), { month: "short", day: "numeric" });
}

/** A full date and time, for titles and details. */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
