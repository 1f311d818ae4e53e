import type { Conversation, Message } from "../api.ts";
import { formatTime } from "../i18n.ts";
import { tm } from "../strings/message.ts";
import { Attachments } from "./message/Attachments.tsx";
import { CallEntry } from "./message/CallEntry.tsx";
import { ChannelContext } from "./message/ChannelContext.tsx";
import { DeliveryStatus } from "./message/DeliveryStatus.tsx";
import { EmailBody } from "./message/EmailMessage.tsx";
import { mediaFailures } from "./message/metadata.ts";
import { NoteText } from "./message/NoteText.tsx";
import "./message/message.css";

/**
 * One message as its channel shows it: an email with its headers and HTML (in a sandboxed
 * frame), a bubble with its media, a social post's context, a call, a note, an activity.
 * What customers and agents wrote is shown as text: React escapes it, so it never runs.
 */
export function MessageItem({ message: m, conversation }: { message: Message; conversation?: Conversation }) {
  if (m.kind === "activity") {
    return (
      <li className="message-activity" data-message-id={m.id} data-kind="activity">
        <span>{m.text}</span> · <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
      </li>
    );
  }
  if (m.kind === "call") return <CallEntry message={m} />;
  const note = m.kind === "note";
  const side = note ? "note" : m.direction;
  const email = !note && (conversation?.channel === "email" || Boolean(m.html));
  const author = note
    ? tm.privateNote
    : m.direction === "inbound"
      ? conversation?.customerName || tm.customer
      : tm.agent;
  const failures = mediaFailures(m);
  return (
    <li
      className={`message message-${side}${email ? " message-email" : ""}`}
      data-message-id={m.id}
      data-kind={m.kind}
    >
      <div className="message-meta">
        <span className={note ? "note-label" : undefined}>{author}</span>
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
      </div>
      {note ? (
        <NoteText text={m.text} />
      ) : email ? (
        <EmailBody message={m} {...(conversation ? { conversation } : {})} />
      ) : (
        <>
          <ChannelContext message={m} />
          {m.text ? <p className="message-text">{m.text}</p> : null}
          <Attachments attachments={m.attachments ?? []} variant="inline" />
          {failures > 0 ? <p className="message-context">{tm.mediaFailed(failures)}</p> : null}
        </>
      )}
      {m.direction === "outbound" && !note && (m.deliveryId || m.deliveryState) ? (
        <DeliveryStatus message={m} />
      ) : null}
    </li>
  );
}
