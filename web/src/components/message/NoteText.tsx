import type { ReactNode } from "react";

// a composer token names a user exactly (`@[Ada Lovelace](user:<id>)`); a typed `@ada` names one by handle
const MENTION =
  /@\[([^\]\n]{0,200})\]\(user:[0-9a-fA-F-]{36}\)|(?<![\p{L}\p{N}._+@-])@[\p{L}\p{N}][\p{L}\p{N}._+-]{0,63}/gu;

/** A private note's text with its @mentions highlighted (tokens shown as the name they carry). */
export function NoteText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const m of text.matchAll(MENTION)) {
    if (m.index > at) parts.push(text.slice(at, m.index));
    // "@ada." ends a sentence: the dot stays outside the mention
    const shown = m[1] !== undefined ? `@${m[1]}` : m[0].replace(/[._+-]+$/, "");
    parts.push(
      <mark key={m.index} className="mention">
        {shown}
      </mark>,
    );
    at = m.index + (m[1] !== undefined ? m[0].length : shown.length);
  }
  if (at < text.length) parts.push(text.slice(at));
  return <p className="message-text">{parts}</p>;
}
