import type { Attachment } from "../../api.ts";

// A reply being written, kept per conversation on this device: it survives a reload, a lost
// session (signing in again comes back here) and a dropped network. Its clientId is kept too,
// so a send that may have reached the server is sent again as the same message, never twice.

export type Draft = {
  text: string;
  mode: "reply" | "note";
  visibility: "public" | "private";
  clientId: string;
  attachments: Attachment[];
  /** Email: the subject and copies as the agent left them (absent: the defaults). */
  subject?: string;
  cc?: string[];
};

const PREFIX = "rapport:draft:";

function storage(): Storage | undefined {
  try {
    return typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    // storage refused (a privacy mode): drafts live as long as the page
    return undefined;
  }
}

/** The draft of a conversation, if one was kept. */
export function loadDraft(conversationId: string): Partial<Draft> | undefined {
  const raw = storage()?.getItem(PREFIX + conversationId);
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== "object" || v === null) return undefined;
    const d = v as Record<string, unknown>;
    const out: Partial<Draft> = {};
    if (typeof d.text === "string") out.text = d.text;
    if (d.mode === "reply" || d.mode === "note") out.mode = d.mode;
    if (d.visibility === "public" || d.visibility === "private") out.visibility = d.visibility;
    if (typeof d.clientId === "string") out.clientId = d.clientId;
    if (typeof d.subject === "string") out.subject = d.subject;
    if (Array.isArray(d.cc)) out.cc = d.cc.filter((a): a is string => typeof a === "string");
    if (Array.isArray(d.attachments)) {
      out.attachments = d.attachments.filter(
        (a): a is Attachment =>
          typeof a === "object" && a !== null && typeof a.key === "string" && typeof a.name === "string",
      );
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Keeps the draft (an empty one is forgotten). */
export function saveDraft(conversationId: string, draft: Draft): void {
  const s = storage();
  if (!s) return;
  const empty = draft.text.trim() === "" && draft.attachments.length === 0;
  try {
    if (empty && draft.mode === "reply") s.removeItem(PREFIX + conversationId);
    else s.setItem(PREFIX + conversationId, JSON.stringify(draft));
  } catch {
    // storage full: the draft stays on screen
  }
}

/** Forgets the draft once it is sent. */
export function clearDraft(conversationId: string): void {
  storage()?.removeItem(PREFIX + conversationId);
}
