import { memo } from "react";
import type { Conversation } from "../../api.ts";
import { formatTime, t } from "../../i18n.ts";
import { s } from "../../strings/list.ts";

const MAX_LABELS = 2;

/** Two letters for a name: "Alex Agent" → "AA", "sam" → "S". */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "";
  const last = parts.length > 1 ? (parts.at(-1)?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** Who the conversation is with: the customer's name, else the address they wrote from. */
export function who(c: Conversation): string {
  return c.customerName || c.contactAddress || c.subject || t.unknownCustomer;
}

type Props = {
  c: Conversation;
  /** The option's element id (aria-activedescendant points at it). */
  domId: string;
  index: number;
  total: number;
  top: number;
  selected: boolean;
  active: boolean;
  assignee: string | undefined;
  onOpen: (id: string, index: number) => void;
};

/** One conversation of the list: who, when, what was said last, and its markers. */
export const ConversationRow = memo(function ConversationRow({
  c,
  domId,
  index,
  total,
  top,
  selected,
  active,
  assignee,
  onOpen,
}: Props) {
  const last = c.lastMessage;
  const marker =
    last?.kind === "note" ? s.note : last?.direction === "outbound" && last.kind === "message" ? s.you : null;
  const labels = c.labels ?? [];
  const priority = c.priority && c.priority !== "none" ? c.priority : null;
  return (
    // the listbox holds the focus and takes the keys (arrows, J/K, Enter); its options are pointed at
    // biome-ignore lint/a11y/useKeyWithClickEvents: keys go to the listbox (aria-activedescendant)
    // biome-ignore lint/a11y/useFocusableInteractive: options of an aria-activedescendant listbox are not focused
    <div
      id={domId}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={total}
      className="lrow"
      data-conversation-id={c.id}
      data-unread={c.unread ? "true" : undefined}
      data-active={active ? "true" : undefined}
      data-index={index}
      style={{ transform: `translateY(${top}px)` }}
      onClick={() => onOpen(c.id, index)}
    >
      <span className="lrow-top">
        {c.unread ? (
          <>
            <span className="lrow-dot" aria-hidden="true" />
            <span className="visually-hidden">{s.unread}, </span>
          </>
        ) : null}
        <span className="lrow-who">{who(c)}</span>
        <time dateTime={c.lastMessageAt} className="lrow-time">
          {formatTime(c.lastMessageAt)}
        </time>
      </span>
      <span className="lrow-preview">
        {marker ? <span className="lrow-marker">{marker} </span> : null}
        {last ? last.preview : s.noMessage}
      </span>
      <span className="lrow-meta">
        <span className="lrow-channel">
          {t.conversationChannel(c.channel)} · {s.number(c.number)}
        </span>
        {priority ? (
          <span className="lrow-priority" data-priority={priority}>
            {t.priority(priority)}
          </span>
        ) : null}
        {labels.slice(0, MAX_LABELS).map((l) => (
          <span key={l} className="lrow-label">
            {l}
          </span>
        ))}
        {labels.length > MAX_LABELS ? (
          <span className="lrow-label">{s.labelsMore(labels.length - MAX_LABELS)}</span>
        ) : null}
        {assignee ? (
          <span className="lrow-assignee" title={s.assignedTo(assignee)}>
            <span aria-hidden="true">{initials(assignee)}</span>
            <span className="visually-hidden">{s.assignedTo(assignee)}</span>
          </span>
        ) : null}
      </span>
    </div>
  );
});
