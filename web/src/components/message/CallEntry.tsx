import type { Message } from "../../api.ts";
import { formatTime } from "../../i18n.ts";
import { tm } from "../../strings/message.ts";
import { CallMeta, formatDuration, read } from "./metadata.ts";

/**
 * A phone call's entry: its direction, status and length, the recording to play (once the
 * recording job has kept it) and the transcript, folded.
 */
export function CallEntry({ message: m }: { message: Message }) {
  const call = read(CallMeta, m)?.call;
  const audio =
    m.attachments?.find((a) => a.contentType.startsWith("audio/")) ??
    (call?.recording ? { ...call.recording, url: undefined } : undefined);
  const src = audio
    ? audio.url?.startsWith("/")
      ? audio.url
      : `/api/v1/attachments/${audio.key}`
    : undefined;
  const direction = (call?.direction ?? m.direction).startsWith("outbound") ? tm.callOut : tm.callIn;
  return (
    <li className="message message-call" data-message-id={m.id} data-kind="call">
      <div className="message-meta">
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
      </div>
      <p className="call-line">
        <span>{direction}</span>
        {call ? <span>{tm.callStatuses[call.status] ?? call.status}</span> : null}
        {call?.durationSeconds !== undefined ? (
          <span>
            {tm.duration} {formatDuration(call.durationSeconds)}
          </span>
        ) : null}
        {call?.waitSeconds !== undefined ? (
          <span>
            {tm.waited} {formatDuration(call.waitSeconds)}
          </span>
        ) : null}
      </p>
      {call ? null : <p className="message-text">{m.text}</p>}
      {call?.error ? <p className="message-failure">{tm.callError(call.error)}</p> : null}
      {src ? (
        // biome-ignore lint/a11y/useMediaCaption: a call recording has no captions; its transcript is below
        <audio className="call-audio" controls preload="metadata" src={src} aria-label={tm.recording} />
      ) : null}
      {call?.recordingError ? (
        <p className="message-failure">{tm.recordingError(call.recordingError)}</p>
      ) : null}
      {call?.transcription ? (
        <details className="message-details">
          <summary>{tm.transcript}</summary>
          <p>{call.transcription}</p>
        </details>
      ) : null}
    </li>
  );
}
