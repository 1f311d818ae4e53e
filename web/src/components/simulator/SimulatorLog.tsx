import { formatTime, t } from "../../i18n.ts";
import { followLink, pathFor } from "../../route.ts";
import { s } from "../../strings/simulator.ts";
import type { SentEntry } from "./log.ts";

/** The messages sent this session, each with a link to its conversation in the inbox. */
export function SimulatorLog({ entries }: { entries: SentEntry[] }) {
  const c = s.logColumns;
  return (
    <section aria-labelledby="sim-log-title" className="sim-log">
      <h2 id="sim-log-title">{s.log}</h2>
      {entries.length === 0 ? (
        <p className="muted">{s.logEmpty}</p>
      ) : (
        <ul className="sim-entries">
          {entries.map((e) => {
            const to = { page: "inbox" as const, conversationId: e.conversationId };
            return (
              <li key={e.messageId} data-sim-message={e.messageId}>
                <span className="sim-entry-top">
                  <time dateTime={e.at}>{formatTime(e.at)}</time>
                  <span>
                    {e.inboxName} · {t.channel(e.kind)}
                  </span>
                </span>
                <span className="sim-entry-from">
                  {c.from}: {e.from}
                </span>
                <span className="sim-entry-text">
                  {e.subject ? <strong>{e.subject} — </strong> : null}
                  {e.text}
                </span>
                <a href={pathFor(to)} onClick={(ev) => followLink(ev, to)}>
                  {s.openShort}
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
