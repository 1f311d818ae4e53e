import { SegmentedControl } from "@mantine/core";
import { type Counts, useCounts, VIEWS, type View } from "../../list-queries.ts";
import { s } from "../../strings/list.ts";

/** A view's name, its open conversations and, when any, how many the agent has unread. */
function ViewLabel({ view, counts }: { view: View; counts: Counts | undefined }) {
  const open = counts?.views[view]?.open;
  const unread = counts?.unread?.[view] ?? 0;
  return (
    <span className="lview" data-view={view}>
      <span>{s.views[view]}</span>
      {open === undefined ? null : (
        <>
          <span className="lview-count" data-unread={unread > 0 ? "true" : undefined} aria-hidden="true">
            {open}
          </span>
          <span className="visually-hidden">({s.viewCount(open, unread)})</span>
        </>
      )}
    </span>
  );
}

/** Mine, Unassigned, All: one tap apart, each with its count. */
export function ViewTabs(props: { view: View; onView: (view: View) => void; countsEnabled: boolean }) {
  const { view, onView } = props;
  const counts = useCounts(props.countsEnabled);
  return (
    <SegmentedControl
      fullWidth
      size="sm"
      className="lviews"
      aria-label={s.viewsLabel}
      value={view}
      onChange={(v) => {
        const next = VIEWS.find((x) => x === v);
        if (next) onView(next);
      }}
      data={VIEWS.map((v) => ({ value: v, label: <ViewLabel view={v} counts={counts.data} /> }))}
    />
  );
}
