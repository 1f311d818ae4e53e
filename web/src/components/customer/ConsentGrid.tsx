import { language, t } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import type { CellState, ConsentOverview } from "./customer-api.ts";

/** The channels worth a column: those the customer can be reached on, or has chosen on. */
function columns(overview: ConsentOverview): string[] {
  const all = [...new Set(overview.topics.flatMap((tp) => Object.keys(tp.channels)))];
  const chosen = new Set(
    overview.topics.flatMap((tp) =>
      Object.entries(tp.channels)
        .filter(([, cell]) => cell.source !== "default")
        .map(([channel]) => channel),
    ),
  );
  const shown = all.filter((c) => overview.reachableChannels.includes(c) || chosen.has(c));
  return shown.length > 0 ? shown : all;
}

/** A mark that does not rest on colour: a distinct glyph, and the words for screen readers and on hover. */
function Mark({ cell }: { cell: CellState | undefined }) {
  if (!cell) return <span className="c360-mark">–</span>;
  const state = cell.source === "default" ? "unknown" : cell.subscribed ? "in" : "out";
  const words =
    state === "unknown" ? cs.unknownDefault(cell.subscribed) : state === "in" ? cs.optedIn : cs.optedOut;
  const glyph = state === "unknown" ? "?" : state === "in" ? "✓" : "✕";
  return (
    <span className="c360-mark" data-state={state} title={words}>
      <span aria-hidden="true">{glyph}</span>
      <span className="c360-visually-hidden">{words}</span>
    </span>
  );
}

/** Topics down, channels across: opted in, opted out or no choice recorded. */
export function ConsentGrid({ overview }: { overview: ConsentOverview }) {
  const channels = columns(overview);
  return (
    // a wide grid scrolls on its own; focusable so the keyboard can scroll it too
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard
    <section className="c360-scroll" aria-label={cs.consentGrid} tabIndex={0}>
      <table className="c360-grid" data-section="consent">
        <caption className="c360-visually-hidden">{cs.consentGrid}</caption>
        <thead>
          <tr>
            <th scope="col">{cs.topic}</th>
            {channels.map((c) => (
              <th key={c} scope="col">
                {t.channel(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {overview.topics.map((tp) => (
            <tr key={tp.id} data-topic={tp.key}>
              <th scope="row">{tp.names[language()] ?? tp.names.en ?? tp.key}</th>
              {channels.map((c) => (
                <td key={c} data-channel={c}>
                  <Mark cell={tp.channels[c]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="c360-legend">{cs.legend}</p>
    </section>
  );
}
