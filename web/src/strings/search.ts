import { localized } from "../i18n.ts";

// The search page's words.

const MATCHED_EN: Record<string, string> = {
  email: "Matched on email",
  phone: "Matched on phone",
  identity: "Matched on an identity",
  name: "Matched on name",
  number: "Matched on number",
  subject: "Matched on subject",
  message: "Matched in a message",
};

const MATCHED_FR: Record<string, string> = {
  email: "Trouvé par l’e-mail",
  phone: "Trouvé par le téléphone",
  identity: "Trouvé par une identité",
  name: "Trouvé par le nom",
  number: "Trouvé par le numéro",
  subject: "Trouvé par l’objet",
  message: "Trouvé dans un message",
};

const en = {
  heading: "Search",
  label: "Search customers and conversations",
  placeholder: "Name, email, phone, X handle, #number or words from a message",
  submit: "Search",
  intro: "Find a customer by name, email, phone or handle, or a conversation by number or what was written.",
  tooShort: (min: number) => `Type at least ${min} characters to search.`,
  searching: "Searching…",
  noResults: (q: string) => `Nothing matches “${q}”.`,
  failed: (why: string) => `The search failed: ${why}`,
  customers: (n: number) => `Customers (${n})`,
  conversations: (n: number) => `Conversations (${n})`,
  noCustomers: "No customer matches.",
  noConversations: "No conversation matches.",
  unnamed: "Unnamed customer",
  matched: (what: string) => MATCHED_EN[what] ?? what,
  conversationTitle: (n: number, subject: string | null) => (subject ? `#${n} ${subject}` : `#${n}`),
};

export type SearchStrings = typeof en;

const fr: SearchStrings = {
  heading: "Recherche",
  label: "Rechercher des clients et des conversations",
  placeholder: "Nom, e-mail, téléphone, compte X, n° ou mots d’un message",
  submit: "Rechercher",
  intro:
    "Trouvez un client par son nom, son e-mail, son téléphone ou son compte, ou une conversation par son numéro ou son contenu.",
  tooShort: (min: number) => `Saisissez au moins ${min} caractères pour lancer la recherche.`,
  searching: "Recherche…",
  noResults: (q: string) => `Aucun résultat pour « ${q} ».`,
  failed: (why: string) => `La recherche a échoué : ${why}`,
  customers: (n: number) => `Clients (${n})`,
  conversations: (n: number) => `Conversations (${n})`,
  noCustomers: "Aucun client ne correspond.",
  noConversations: "Aucune conversation ne correspond.",
  unnamed: "Client sans nom",
  matched: (what: string) => MATCHED_FR[what] ?? what,
  conversationTitle: (n: number, subject: string | null) => (subject ? `n° ${n} ${subject}` : `n° ${n}`),
};

/** The search page's strings in the agent's language. */
export const ss: SearchStrings = localized({ en, fr });
