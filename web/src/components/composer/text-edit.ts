// Editing the reply box's text around the caret: inserting, and finding what the agent is
// typing a suggestion for (`/` at the start for a canned response, `@` in a note for a person).

export type Trigger = { kind: "canned" | "mention"; query: string; start: number; end: number };

const CANNED = /^\/([^\s/]{0,40})$/;
const MENTION = /(^|\s)@([\p{L}\p{N}._-]{0,40})$/u;

/** The suggestion the text before the caret asks for, if any. */
export function activeTrigger(text: string, caret: number, note: boolean): Trigger | undefined {
  const before = text.slice(0, caret);
  const canned = CANNED.exec(before);
  if (canned) return { kind: "canned", query: canned[1] ?? "", start: 0, end: caret };
  if (!note) return undefined;
  const mention = MENTION.exec(before);
  if (!mention) return undefined;
  const query = mention[2] ?? "";
  return { kind: "mention", query, start: caret - query.length - 1, end: caret };
}

/** `text` with `start`..`end` replaced by `insert`; answers the caret after the insertion. */
export function replaceRange(
  text: string,
  start: number,
  end: number,
  insert: string,
): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}

/** The token the server reads as a mention of exactly this user, whatever their name holds. */
export function mentionToken(name: string, userId: string): string {
  return `@[${name.replace(/[[\]\n]/g, " ").slice(0, 200)}](user:${userId}) `;
}
