import { Alert, Button, Loader, Text } from "@mantine/core";
import { useCallback, useEffect, useId, useRef } from "react";
import { t } from "../i18n.ts";
import {
  activeFilters,
  DEFAULT_FILTERS,
  isRefusal,
  type ListFilters,
  useAgentNames,
  useConversationList,
  useMarkRead,
  type View,
} from "../list-queries.ts";
import { s } from "../strings/list.ts";
import { ConversationRows } from "./list/ConversationRows.tsx";
import { FilterBar } from "./list/FilterBar.tsx";
import { ViewTabs } from "./list/ViewTabs.tsx";
import "./list/list.css";

type Props = {
  view: View;
  onView: (view: View) => void;
  filters: ListFilters;
  onFilters: (filters: ListFilters) => void;
  openId: string | undefined;
  onOpen: (id: string) => void;
};

/**
 * The first screen: the views (mine, unassigned, all) with their counts, the filters and sort,
 * and the conversations themselves, read page by page as the agent scrolls. Opening one marks
 * it read; one the customer writes in again while open is marked read again.
 */
export function ConversationList({ view, onView, filters, onFilters, openId, onOpen }: Props) {
  const list = useConversationList(view, filters);
  // the rows come first; the counts and the assignees' names follow them
  const rowsFirst = !list.isPending;
  const agents = useAgentNames(rowsFirst);
  const markRead = useMarkRead();
  const hint = useId();
  const openRow = openId ? list.rows.find((r) => r.id === openId) : undefined;
  const openUnread = openRow?.unread === true;
  const { mutate } = markRead;
  // read on opening, and again whenever the open conversation turns unread (the customer wrote)
  const marked = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!openId) {
      marked.current = undefined;
      return;
    }
    if (marked.current === openId && !openUnread) return;
    marked.current = openId;
    mutate(openId);
  }, [openId, openUnread, mutate]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const filtered = activeFilters(filters) > 0;
  const reset = () => onFilters({ ...DEFAULT_FILTERS });

  let body: React.ReactNode;
  if (list.isPending) {
    body = (
      <div className="lstate" role="status">
        <Loader size="sm" aria-hidden />
        <Text size="sm">{s.loading}</Text>
      </div>
    );
  } else if (list.isError && isRefusal(list.error)) {
    body = (
      <Alert color="red" className="lstate" role="alert" title={s.refused}>
        <Text size="sm">{list.error.message}</Text>
        <Button size="xs" mt="xs" variant="default" onClick={reset}>
          {s.clearFilters}
        </Button>
      </Alert>
    );
  } else if (list.isError) {
    body = (
      <Alert color="red" className="lstate" role="alert">
        {s.loadFailed}
      </Alert>
    );
  } else if (list.rows.length === 0) {
    body = (
      <div className="lstate">
        <Text>{filtered ? s.emptyFiltered : t.noConversations}</Text>
        {filtered ? (
          <Button size="xs" mt="xs" variant="default" onClick={reset}>
            {s.clearFilters}
          </Button>
        ) : null}
      </div>
    );
  } else {
    body = (
      <>
        {list.isRefetchError ? (
          <Text size="xs" className="lnotice" role="status">
            {s.refreshFailed}
          </Text>
        ) : null}
        <ConversationRows
          // a new view or filter starts at the top, with its own scroll
          key={JSON.stringify([view, filters])}
          rows={list.rows}
          openId={openId}
          label={filters.sort === "last_message" ? s.listLabel : s.listLabelSorted(s.sorts[filters.sort])}
          describedBy={hint}
          agents={agents}
          hasMore={hasNextPage}
          loadingMore={isFetchingNextPage}
          loadMore={loadMore}
          onOpen={onOpen}
        />
        <div className="lmore" role="status">
          {isFetchingNextPage ? s.loadingMore : ""}
        </div>
      </>
    );
  }

  return (
    <div className="list">
      <h2 className="visually-hidden" id="list-title">
        {s.heading}
      </h2>
      <p className="visually-hidden" id={hint}>
        {s.keyboardHint}
      </p>
      <ViewTabs view={view} onView={onView} countsEnabled={rowsFirst} />
      <FilterBar filters={filters} onFilters={onFilters} />
      {body}
    </div>
  );
}
