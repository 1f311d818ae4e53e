import { localized } from "../i18n.ts";

// The customer 360's words: the panel beside a conversation and the customer page.

const IDENTITY_KINDS_EN: Record<string, string> = {
  user_id: "External id",
  email: "Email",
  phone: "Phone",
  anonymous_id: "Anonymous id",
  messenger_psid: "Messenger (PSID)",
  instagram_id: "Instagram",
  whatsapp_id: "WhatsApp",
  x_id: "X id",
  x_handle: "X handle",
  device_token: "Device",
};

const IDENTITY_KINDS_FR: Record<string, string> = {
  user_id: "Identifiant externe",
  email: "E-mail",
  phone: "Téléphone",
  anonymous_id: "Identifiant anonyme",
  messenger_psid: "Messenger (PSID)",
  instagram_id: "Instagram",
  whatsapp_id: "WhatsApp",
  x_id: "Identifiant X",
  x_handle: "Compte X",
  device_token: "Appareil",
};

const SOURCES_EN: Record<string, string> = {
  preference_center: "preference center",
  in_app: "in-app",
  api: "API",
  one_click: "one-click unsubscribe",
  sms_keyword: "SMS keyword",
  agent: "agent",
  import: "import",
};

const SOURCES_FR: Record<string, string> = {
  preference_center: "centre de préférences",
  in_app: "dans l’app",
  api: "API",
  one_click: "désinscription en un clic",
  sms_keyword: "mot-clé SMS",
  agent: "agent",
  import: "import",
};

const en = {
  heading: "Customer",
  unnamed: "Unnamed customer",
  openPage: "Open customer page",
  sectionsLabel: "Customer details",
  avatarLabel: (name: string) => `Initials of ${name}`,
  email: "Email",
  phone: "Phone",
  plan: "Plan",
  created: "Customer since",
  lastSeen: "Last seen",
  lifecycle: "Lifecycle",
  relation: { anonymous: "Anonymous visitor", contact: "Contact", user: "User" } as Record<string, string>,
  activity: {
    new: "new (first seen in the last 30 days)",
    active: "active",
    dormant: "dormant (not seen for 30 days)",
    lapsed: "lapsed (not seen for 90 days)",
  } as Record<string, string>,
  none: "—",
  notFound: "There is no customer with this id in your workspace.",
  loadFailed: (why: string) => `Could not load this: ${why}`,
  loading: "Loading…",
  loadMore: "Load more",
  sections: {
    identities: "Identities",
    traits: "Traits",
    consent: "Consent",
    events: "Events",
    conversations: "Conversations",
    deliveries: "Messages sent",
  } as Record<string, string>,
  identityKind: (kind: string) => IDENTITY_KINDS_EN[kind] ?? kind,
  noIdentities: "No identities known.",
  merges: "Merge history",
  noMerges: "No profiles were merged into this one.",
  merged: (id: string) => `Profile ${id} merged in`,
  mergeBy: (reason: string, actor: string) => `${reason}, by ${actor}`,
  noTraits: "No traits yet.",
  showValue: "Show the value",
  consentGrid: "Consent by topic and channel",
  topic: "Topic",
  optedIn: "Opted in",
  optedOut: "Opted out",
  unknown: "No choice recorded",
  unknownDefault: (receives: boolean): string =>
    receives ? "No choice recorded; receives by default" : "No choice recorded; not sent by default",
  legend: "✓ opted in · ✕ opted out · ? no choice recorded (the topic's default applies)",
  noTopics: "The workspace has no topics yet.",
  preferences: (tz: string, lang: string) => `Time zone ${tz}, language ${lang}`,
  suppressed: "Suppressed addresses",
  ledger: "Consent history",
  noLedger: "No consent changes recorded.",
  allTopics: "every topic",
  ledgerEntry: (channel: string, topic: string, subscribed: boolean) =>
    `${channel} · ${topic}: ${subscribed ? "opted in" : "opted out"}`,
  source: (s: string) => `via ${SOURCES_EN[s] ?? s}`,
  noEvents: "No events yet.",
  eventProperties: "Properties",
  noConversations: "No other conversations.",
  conversationLabel: (n: number) => `Conversation #${n}`,
  noDeliveries: "Nothing was sent to this customer yet.",
  deliveryTopic: (topic: string) => `Topic ${topic}`,
};

export type CustomerStrings = typeof en;

const fr: CustomerStrings = {
  heading: "Client",
  unnamed: "Client sans nom",
  openPage: "Ouvrir la fiche client",
  sectionsLabel: "Détails du client",
  avatarLabel: (name: string) => `Initiales de ${name}`,
  email: "E-mail",
  phone: "Téléphone",
  plan: "Offre",
  created: "Client depuis",
  lastSeen: "Vu pour la dernière fois",
  lifecycle: "Cycle de vie",
  relation: { anonymous: "Visiteur anonyme", contact: "Contact", user: "Utilisateur" } as Record<
    string,
    string
  >,
  activity: {
    new: "nouveau (vu pour la première fois ces 30 derniers jours)",
    active: "actif",
    dormant: "inactif (pas vu depuis 30 jours)",
    lapsed: "perdu de vue (pas vu depuis 90 jours)",
  } as Record<string, string>,
  none: "—",
  notFound: "Aucun client ne porte cet identifiant dans votre espace.",
  loadFailed: (why: string) => `Chargement impossible : ${why}`,
  loading: "Chargement…",
  loadMore: "Afficher plus",
  sections: {
    identities: "Identités",
    traits: "Attributs",
    consent: "Consentement",
    events: "Événements",
    conversations: "Conversations",
    deliveries: "Messages envoyés",
  },
  identityKind: (kind: string) => IDENTITY_KINDS_FR[kind] ?? kind,
  noIdentities: "Aucune identité connue.",
  merges: "Historique des fusions",
  noMerges: "Aucun profil n’a été fusionné dans celui-ci.",
  merged: (id: string) => `Profil ${id} fusionné`,
  mergeBy: (reason: string, actor: string) => `${reason}, par ${actor}`,
  noTraits: "Pas encore d’attribut.",
  showValue: "Afficher la valeur",
  consentGrid: "Consentement par sujet et par canal",
  topic: "Sujet",
  optedIn: "Inscrit",
  optedOut: "Désinscrit",
  unknown: "Aucun choix enregistré",
  unknownDefault: (receives: boolean): string =>
    receives
      ? "Aucun choix enregistré ; reçoit par défaut"
      : "Aucun choix enregistré ; rien n’est envoyé par défaut",
  legend: "✓ inscrit · ✕ désinscrit · ? aucun choix enregistré (le réglage par défaut du sujet s’applique)",
  noTopics: "L’espace n’a pas encore de sujet.",
  preferences: (tz: string, lang: string) => `Fuseau horaire ${tz}, langue ${lang}`,
  suppressed: "Adresses bloquées",
  ledger: "Historique du consentement",
  noLedger: "Aucun changement de consentement enregistré.",
  allTopics: "tous les sujets",
  ledgerEntry: (channel: string, topic: string, subscribed: boolean) =>
    `${channel} · ${topic} : ${subscribed ? "inscrit" : "désinscrit"}`,
  source: (s: string) => `via ${SOURCES_FR[s] ?? s}`,
  noEvents: "Pas encore d’événement.",
  eventProperties: "Propriétés",
  noConversations: "Aucune autre conversation.",
  conversationLabel: (n: number) => `Conversation n° ${n}`,
  noDeliveries: "Rien n’a encore été envoyé à ce client.",
  deliveryTopic: (topic: string) => `Sujet ${topic}`,
};

/** The customer 360's strings in the agent's language. */
export const cs: CustomerStrings = localized({ en, fr });
