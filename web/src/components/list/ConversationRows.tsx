import { defaultRangeExtractor, useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { Conversation } from "../../api.ts";
import { ConversationRow } from "./ConversationRow.tsx";

/** Every row is this tall (list.css says the same): positions are computed, never measured. */
export const ROW_HEIGHT = 84;
/** Rows from the end at which the next page is asked for. */
const PREFETCH_ROWS = 15;

type Props = {
  rows: Conversation[];
  openId: string | undefined;
  label: string;
  describedBy: string;
  agents: Map<string, string>;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  onOpen: (id: string) => void;
};

const domId = (id: string) => `conversation-option-${id}`;

/**
 * The conversations as a listbox that renders only the rows in sight (10,000 stay smooth).
 * The listbox holds the focus; arrows or J/K move the active row (aria-activedescendant),
 * Enter opens it. Near the end it asks for the next page. When rows arrive above the ones
 * in sight, the scroll moves with them, so what the agent reads stays put.
 */
export function ConversationRows(props: Props) {
  const { rows, openId, agents, hasMore, loadingMore, loadMore, onOpen } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [activeId, setActiveId] = useState<string | undefined>(undefined);
  const activeIndex = activeId ? rows.findIndex((r) => r.id === activeId) : -1;
  const activeRef = useRef(activeIndex);
  activeRef.current = activeIndex;

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => rows[i]?.id ?? i,
    // the active row stays rendered, so aria-activedescendant always points at an element
    rangeExtractor: (range) => {
      const out = defaultRangeExtractor(range);
      const a = activeRef.current;
      if (a >= 0 && !out.includes(a)) out.push(a);
      return out.sort((x, y) => x - y);
    },
  });

  // keep the row the agent reads in place when a refetch adds or moves rows above it
  const previous = useRef<Conversation[]>(rows);
  useLayoutEffect(() => {
    const el = scroller.current;
    const before = previous.current;
    previous.current = rows;
    if (!el || before === rows || el.scrollTop <= 0) return;
    const first = Math.floor(el.scrollTop / ROW_HEIGHT);
    const anchor = before[first];
    if (!anchor) return;
    const now = rows.findIndex((r) => r.id === anchor.id);
    if (now >= 0 && now !== first) el.scrollTop += (now - first) * ROW_HEIGHT;
  }, [rows]);

  const items = virtualizer.getVirtualItems();
  const lastShown = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (hasMore && !loadingMore && lastShown >= rows.length - PREFETCH_ROWS) loadMore();
  }, [hasMore, loadingMore, lastShown, rows.length, loadMore]);

  const open = useCallback(
    (id: string) => {
      setActiveId(id);
      onOpen(id);
    },
    [onOpen],
  );

  const moveTo = (index: number) => {
    const i = Math.max(0, Math.min(rows.length - 1, index));
    const row = rows[i];
    if (!row) return;
    setActiveId(row.id);
    activeRef.current = i;
    virtualizer.scrollToIndex(i, { align: "auto" });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const from =
      activeIndex >= 0
        ? activeIndex
        : Math.max(
            0,
            rows.findIndex((r) => r.id === openId),
          );
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? ROW_HEIGHT) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = {
      ArrowDown: activeIndex >= 0 ? from + 1 : from,
      j: activeIndex >= 0 ? from + 1 : from,
      ArrowUp: from - 1,
      k: from - 1,
      Home: 0,
      End: rows.length - 1,
      PageDown: from + page,
      PageUp: from - page,
    };
    const target = moves[e.key];
    if (target !== undefined) {
      e.preventDefault();
      moveTo(target);
    } else if ((e.key === "Enter" || e.key === " ") && activeIndex >= 0) {
      e.preventDefault();
      const row = rows[activeIndex];
      if (row) open(row.id);
    }
  };

  const onFocus = () => {
    if (activeIndex >= 0) return;
    const opened = rows.findIndex((r) => r.id === openId);
    moveTo(opened >= 0 ? opened : Math.floor((scroller.current?.scrollTop ?? 0) / ROW_HEIGHT));
  };

  const active = rows[activeIndex];
  return (
    <div
      ref={scroller}
      className="lscroll"
      role="listbox"
      tabIndex={0}
      aria-label={props.label}
      aria-describedby={props.describedBy}
      aria-activedescendant={active ? domId(active.id) : undefined}
      aria-busy={loadingMore}
      onKeyDown={onKeyDown}
      onFocus={onFocus}
    >
      <div className="lspace" role="presentation" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {items.map((item) => {
          const c = rows[item.index];
          if (!c) return null;
          return (
            <ConversationRow
              key={c.id}
              c={c}
              domId={domId(c.id)}
              index={item.index}
              total={rows.length}
              top={item.start}
              selected={c.id === openId}
              active={c.id === activeId}
              assignee={c.assigneeId ? agents.get(c.assigneeId) : undefined}
              onOpen={open}
            />
          );
        })}
      </div>
    </div>
  );
}
