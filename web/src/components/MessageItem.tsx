import type { Message } from "../api.ts";
import { formatTime, t } from "../i18n.ts";

/**
 * One message. Its text is the customer's or an agent's words: React escapes it, so it is
 * shown as written and never run as markup (email HTML will need a sandboxed frame).
 */
export function MessageItem({ message: m }: { message: Message }) {
  const note = m.kind === "note";
  const side = note ? "note" : m.direction;
  const author = note ? t.note : m.direction === "inbound" ? t.customer : t.you;
  return (
    <li className={`message message-${side}`} data-message-id={m.id}>
      <div className="message-meta">
        <span>{author}</span>
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
      </div>
      <p className="message-text">{m.text}</p>
      {m.direction === "outbound" && !note ? (
        <div className="message-state" data-delivery-state={m.deliveryState ?? ""}>
          {t.delivery(m.deliveryState)}
        </div>
      ) : null}
    </li>
  );
}
