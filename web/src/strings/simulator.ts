import { localized } from "../i18n.ts";

// The customer simulator's strings, in English and French.

const en = {
  intro:
    "Play a customer on any inbox. Each message goes through the real inbound path, signed as the provider signs it, and lands in the inbox like any other.",
  inbox: "Inbox",
  noInboxes: "There is no inbox to write to yet. An admin creates inboxes in the settings.",
  name: "Customer name (optional)",
  address: {
    phone: "Customer phone number",
    email: "Customer email address",
    psid: "Customer id on the page (PSID)",
    handle: "Customer X handle",
    visitor: "Visitor id",
  },
  addressHint: {
    phone: "International format, such as +14155550123.",
    email: "Any address; example.com is fine.",
    psid: "Digits, as Meta sends them.",
    handle: "Such as @ada_l.",
    visitor: "Any id; the same id continues the same conversation.",
  },
  newCustomer: "New customer",
  subject: "Subject",
  sameThread: "Reply in the same thread",
  sameThreadHint: "Answers the last email sent from this address, as a mail client would.",
  onPost: "Comment on a post",
  postId: "Post id",
  postIdHint: "The post the customer comments on (digits).",
  mention: "A public post mentioning the brand (instead of a direct message)",
  example: (v: string) => `Example: ${v}.`,
  text: "Message",
  send: "Send as the customer",
  sending: "Sending…",
  sent: "Sent.",
  open: "Open the conversation in the inbox",
  problems: {
    phone: "Enter a phone number, such as +14155550123.",
    email: "Enter an email address such as ada@example.com.",
    psid: "A page-scoped id is 5 to 32 digits.",
    postId: "A post id is digits (and _).",
    required: "Required.",
  },
  log: "Sent this session",
  logEmpty: "Nothing sent yet.",
  logColumns: { time: "Time", inbox: "Inbox", from: "From", text: "Message", link: "Conversation" },
  openShort: "Open",
  how: {
    sms: "Posts the message to the inbox's Twilio webhook, signed with its auth token, as Twilio does.",
    whatsapp: "Posts a WhatsApp message to the inbox's Twilio webhook, signed as Twilio signs it.",
    voice: "Calls are not simulated.",
    email: "Builds a raw email (with thread headers when replying) and hands it to the inbound mail path.",
    messenger:
      "Posts a Messenger webhook event (a message, or a comment on a post), signed with the app secret.",
    instagram: "Posts an Instagram webhook event (a DM, or a comment on a post), signed with the app secret.",
    x: "Posts an Account Activity event (a DM, or a reply to a post), signed with the consumer secret.",
    chat: "Opens a widget session as a visitor (by id, or by email) and writes through the widget's own API.",
    api: "Posts to the API channel as your own source would.",
  } as Record<string, string>,
};

const fr: typeof en = {
  intro:
    "Jouez un client sur n’importe quelle boîte. Chaque message passe par le vrai chemin d’entrée, signé comme le fournisseur le signe, et arrive dans la boîte comme les autres.",
  inbox: "Boîte",
  noInboxes: "Il n’y a pas encore de boîte où écrire. Un administrateur les crée dans les réglages.",
  name: "Nom du client (facultatif)",
  address: {
    phone: "Numéro du client",
    email: "Adresse e-mail du client",
    psid: "Identifiant du client sur la page (PSID)",
    handle: "Pseudo X du client",
    visitor: "Identifiant du visiteur",
  },
  addressHint: {
    phone: "Format international, par exemple +33612345678.",
    email: "N’importe quelle adresse ; example.com convient.",
    psid: "Des chiffres, comme Meta les envoie.",
    handle: "Par exemple @ada_l.",
    visitor: "N’importe quel identifiant ; le même poursuit la même conversation.",
  },
  newCustomer: "Nouveau client",
  subject: "Objet",
  sameThread: "Répondre dans le même fil",
  sameThreadHint:
    "Répond au dernier e-mail envoyé depuis cette adresse, comme le ferait un logiciel de messagerie.",
  onPost: "Commenter une publication",
  postId: "Identifiant de la publication",
  postIdHint: "La publication que le client commente (des chiffres).",
  mention: "Une publication publique qui mentionne la marque (au lieu d’un message privé)",
  example: (v: string) => `Exemple : ${v}.`,
  text: "Message",
  send: "Envoyer en tant que client",
  sending: "Envoi…",
  sent: "Envoyé.",
  open: "Ouvrir la conversation dans la boîte",
  problems: {
    phone: "Saisissez un numéro de téléphone, par exemple +33612345678.",
    email: "Saisissez une adresse e-mail, par exemple ada@example.com.",
    psid: "Un identifiant de page compte de 5 à 32 chiffres.",
    postId: "Un identifiant de publication ne contient que des chiffres (et _).",
    required: "Obligatoire.",
  },
  log: "Envoyés pendant cette session",
  logEmpty: "Rien d’envoyé pour l’instant.",
  logColumns: { time: "Heure", inbox: "Boîte", from: "De", text: "Message", link: "Conversation" },
  openShort: "Ouvrir",
  how: {
    sms: "Poste le message au webhook Twilio de la boîte, signé avec son jeton, comme le fait Twilio.",
    whatsapp: "Poste un message WhatsApp au webhook Twilio de la boîte, signé comme Twilio le signe.",
    voice:
      "Les appels ne sont pas simulés ici ; les textes vers un numéro vocal passent par le webhook Twilio.",
    email:
      "Construit un e-mail brut (avec les en-têtes de fil pour une réponse) et le remet au chemin du courrier entrant.",
    messenger:
      "Poste un événement webhook Messenger (un message, ou un commentaire sur une publication), signé avec la clé de l’app.",
    instagram:
      "Poste un événement webhook Instagram (un message privé, ou un commentaire), signé avec la clé de l’app.",
    x: "Poste un événement Account Activity (un message privé, ou une réponse à une publication), signé avec le consumer secret.",
    chat: "Ouvre une session du widget comme visiteur (par identifiant ou par e-mail) et écrit par l’API du widget.",
    api: "Poste au canal API comme le ferait votre propre source.",
  },
};

/** The simulator's strings. */
export const s = localized({ en, fr });
