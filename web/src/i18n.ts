// Every string the inbox shows, in one place so another language can follow (French next).

export const en = {
  appName: "Rapport",
  inbox: "Inbox",
  skipToContent: "Skip to the conversation",
  signOut: "Sign out",
  views: { mine: "Mine", unassigned: "Unassigned", all: "All open" },
  viewsLabel: "Conversation views",
  conversations: "Conversations",
  noConversations: "No conversations here.",
  loading: "Loading…",
  loadFailed: "Could not load this; retrying.",
  pickConversation: "Pick a conversation to read it.",
  back: "Back to the list",
  conversationTitle: (n: number) => `Conversation #${n}`,
  channel: (c: string | null) => (c ? (CHANNELS[c] ?? c) : "Unknown channel"),
  status: (s: string) => STATUSES[s] ?? s,
  messages: "Messages",
  noMessages: "No messages yet.",
  customer: "Customer",
  you: "Agent",
  note: "Private note",
  delivery: (state: string | null) => (state ? (DELIVERY[state] ?? state) : "Not sent"),
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
} as const;

const CHANNELS: Record<string, string> = {
  sms: "SMS",
  whatsapp: "WhatsApp",
  email: "Email",
  chat: "Chat",
  messenger: "Messenger",
  instagram: "Instagram",
  x: "X",
  voice: "Voice",
  api: "API",
};

const STATUSES: Record<string, string> = {
  open: "Open",
  pending: "Pending",
  snoozed: "Snoozed",
  resolved: "Resolved",
};

const DELIVERY: Record<string, string> = {
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
};

export type Strings = typeof en;

/** The strings of the agent's language; English until another is added. */
export const t: Strings = en;

/** A time as the agent reads it: the hour today, the date otherwise. */
export function formatTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString("en", { month: "short", day: "numeric" });
}
