import type { Conversation, Message } from "../../api.ts";
import { tm } from "../../strings/message.ts";
import { Attachments } from "./Attachments.tsx";
import { EmailFrame } from "./EmailFrame.tsx";
import { EmailMeta, read } from "./metadata.ts";

/** An email: its subject and addresses, its HTML in a sandboxed frame (or its text), its files. */
export function EmailBody({ message: m, conversation }: { message: Message; conversation?: Conversation }) {
  const meta = read(EmailMeta, m);
  const subject = meta?.subject ?? conversation?.subject ?? null;
  const from = meta?.from
    ? meta.from.name
      ? `${meta.from.name} <${meta.from.address}>`
      : meta.from.address
    : undefined;
  const inline = new Set(Object.values(meta?.inlineImages ?? {}));
  const files = (m.attachments ?? []).filter((a) => !inline.has(a.key));
  const rows: Array<[string, string]> = [];
  if (from) rows.push([tm.from, from]);
  if (meta?.to && meta.to.length > 0) rows.push([tm.to, meta.to.join(", ")]);
  if (meta?.cc && meta.cc.length > 0) rows.push([tm.cc, meta.cc.join(", ")]);
  return (
    <>
      {subject !== null || m.direction === "inbound" ? (
        <p className="email-subject">
          <span className="message-sr">{tm.subject}: </span>
          {subject || tm.noSubject}
        </p>
      ) : null}
      {meta?.autoReply ? (
        <div className="message-context">
          <span className="message-tag">{tm.autoReply}</span>
        </div>
      ) : null}
      {rows.length > 0 ? (
        <dl className="email-head">
          {rows.map(([label, value]) => (
            <div key={label} className="email-head-row">
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {m.html ? (
        <EmailFrame
          conversationId={m.conversationId}
          messageId={m.id}
          title={tm.emailFrame(subject || tm.noSubject)}
        />
      ) : (
        <p className="message-text">{m.text}</p>
      )}
      <Attachments attachments={files} variant="thumbnail" />
    </>
  );
}
