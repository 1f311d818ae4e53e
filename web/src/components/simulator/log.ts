// What the simulator sent in this browser session (kept across page changes, not across tabs).

export type SentEntry = {
  at: string;
  inboxId: string;
  inboxName: string;
  kind: string;
  from: string;
  text: string;
  subject?: string;
  conversationId: string;
  messageId: string;
};

const KEY = "rapport.simulator.log";

/** The session's log, newest first. */
export function readLog(): SentEntry[] {
  try {
    const raw: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(raw) ? (raw as SentEntry[]) : [];
  } catch {
    return [];
  }
}

/** Adds an entry and answers the new log (at most 50 entries). */
export function appendLog(entry: SentEntry): SentEntry[] {
  const next = [entry, ...readLog()].slice(0, 50);
  try {
    sessionStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // storage full or refused: the log lives on in the page
  }
  return next;
}
