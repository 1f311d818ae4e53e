export type Suggestion = { id: string; label: string; detail?: string };

/**
 * The list under the reply box while the agent types `/…` or `@…`: the arrow keys move in it
 * (the box keeps the keyboard and points at the active option), Enter or Tab picks.
 */
export function Suggestions({
  id,
  label,
  items,
  active,
  empty,
  onPick,
}: {
  id: string;
  label: string;
  items: Suggestion[];
  active: number;
  empty: string;
  onPick: (item: Suggestion) => void;
}) {
  return (
    <div className="suggestions" id={id} role="listbox" aria-label={label}>
      {items.length === 0 ? (
        <div className="suggestion-empty" role="option" aria-selected={false} aria-disabled tabIndex={-1}>
          {empty}
        </div>
      ) : (
        items.map((item, i) => (
          <div
            key={item.id}
            tabIndex={-1}
            id={`${id}-${i}`}
            role="option"
            aria-selected={i === active}
            className="suggestion"
            // mousedown, not click: the reply box must not lose the caret first
            onMouseDown={(e) => {
              e.preventDefault();
              onPick(item);
            }}
          >
            <span className="suggestion-label">{item.label}</span>
            {item.detail ? <span className="suggestion-detail">{item.detail}</span> : null}
          </div>
        ))
      )}
    </div>
  );
}
