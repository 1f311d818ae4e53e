// The chat's words, in the visitor's language (English and French so far).

export type Lang = "en" | "fr";

const en = {
  title: "Chat",
  close: "Close chat",
  online: "We usually answer within a few minutes.",
  offline: "We are away right now: we will answer as soon as we are back.",
  greeting: "Hi! How can we help you today?",
  conversation: "Conversation",
  you: "You",
  team: "Support",
  composerLabel: "Write a message",
  composerPlaceholder: "Write a message…",
  send: "Send",
  sending: "Sending…",
  failed: "Not sent. Select to try again.",
  typing: "Support is typing…",
  offlineAsk: "Nobody is available right now. Leave your email and we will answer you there.",
  emailLabel: "Your email",
  emailSave: "Notify me by email",
  emailSaved: (email: string) => `Thanks! We will answer you at ${email}.`,
  emailInvalid: "Please enter a valid email address.",
  tabChat: "Chat",
  tabMessages: "Messages",
  tabs: "Sections",
  noMessages: "No messages yet.",
  unread: "Unread",
  markRead: "Mark as read",
  error: "Something went wrong. Please try again.",
  reconnecting: "Reconnecting…",
  tooLong: (max: number) => `A message holds at most ${max} characters.`,
};

const fr: typeof en = {
  title: "Chat",
  close: "Fermer le chat",
  online: "Nous répondons en général en quelques minutes.",
  offline: "Nous sommes absents pour le moment : nous vous répondrons dès notre retour.",
  greeting: "Bonjour ! Comment pouvons-nous vous aider ?",
  conversation: "Conversation",
  you: "Vous",
  team: "Support",
  composerLabel: "Écrire un message",
  composerPlaceholder: "Écrivez un message…",
  send: "Envoyer",
  sending: "Envoi…",
  failed: "Non envoyé. Touchez pour réessayer.",
  typing: "Le support écrit…",
  offlineAsk:
    "Personne n’est disponible pour le moment. Laissez votre e-mail et nous vous répondrons par e-mail.",
  emailLabel: "Votre e-mail",
  emailSave: "Me répondre par e-mail",
  emailSaved: (email: string) => `Merci ! Nous vous répondrons à ${email}.`,
  emailInvalid: "Saisissez une adresse e-mail valide.",
  tabChat: "Chat",
  tabMessages: "Messages",
  tabs: "Rubriques",
  noMessages: "Aucun message pour le moment.",
  unread: "Non lu",
  markRead: "Marquer comme lu",
  error: "Une erreur est survenue. Réessayez.",
  reconnecting: "Reconnexion…",
  tooLong: (max: number) => `Un message compte au plus ${max} caractères.`,
};

export type Strings = typeof en;

/** The visitor's language: the brand's setting, else the browser's; English by default. */
export function pickLang(wanted: string | undefined): Lang {
  const l = (wanted || navigator.language || "en").toLowerCase();
  return l.startsWith("fr") ? "fr" : "en";
}

export function stringsFor(lang: Lang): Strings {
  return lang === "fr" ? fr : en;
}
