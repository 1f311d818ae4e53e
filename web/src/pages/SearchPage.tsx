import { Alert, Button, Loader, Text, TextInput, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { SearchResults } from "../components/search/SearchResults.tsx";
import "../components/search/search.css";
import { SEARCH_MAX, SEARCH_MIN, searchable, useSearch } from "../components/search/search-api.ts";
import { navigate } from "../route.ts";
import { ss } from "../strings/search.ts";

const DEBOUNCE_MS = 300;

/**
 * Search customers and conversations by text, email, phone or handle. The address holds the
 * query (`?q=`): typing updates it after a pause and results follow, so Back and reload keep it.
 */
export function SearchPage({ q }: { q: string }) {
  const [text, setText] = useState(q);
  // Back or a link changed the address: the box shows that query (a trailing space typed stays)
  useEffect(() => {
    setText((prev) => (prev.trim() === q.trim() ? prev : q));
  }, [q]);
  useEffect(() => {
    const next = text.trim();
    if (next === q.trim()) return;
    const timer = setTimeout(() => navigate({ page: "search", q: next }, { replace: true }), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, q]);

  const query = q.trim();
  const search = useSearch(query);
  const typed = text.trim();
  let body: React.ReactNode = null;
  if (typed === "" && query === "") {
    body = <Text c="gray.7">{ss.intro}</Text>;
  } else if (typed.length > 0 && typed.length < SEARCH_MIN) {
    body = (
      <Text role="status" data-search-state="too-short">
        {ss.tooShort(SEARCH_MIN)}
      </Text>
    );
  } else if (searchable(query) && search.isError) {
    body = (
      <Alert color="red" role="alert" data-search-state="error">
        {ss.failed(search.error.message)}
      </Alert>
    );
  } else if (searchable(query) && search.data) {
    const { customers, conversations } = search.data;
    body =
      customers.length + conversations.length === 0 ? (
        <Text role="status" data-search-state="empty">
          {ss.noResults(query)}
        </Text>
      ) : (
        <SearchResults result={search.data} query={query} />
      );
  } else if (searchable(query) || searchable(typed)) {
    body = (
      <div role="status" className="search-loading">
        <Loader size="xs" aria-hidden />
        <Text size="sm">{ss.searching}</Text>
      </div>
    );
  }

  return (
    <main id="main" className="page search-page" tabIndex={-1}>
      <Title order={1} size="h3">
        {ss.heading}
      </Title>
      <search>
        <form
          className="search-form"
          onSubmit={(e) => {
            e.preventDefault();
            // a submitted search is a step in history: Back returns to the one before
            navigate({ page: "search", q: text.trim() });
          }}
        >
          <TextInput
            className="search-input"
            label={ss.label}
            placeholder={ss.placeholder}
            value={text}
            maxLength={SEARCH_MAX}
            type="search"
            // the page exists to type in this box
            autoFocus
            onChange={(e) => setText(e.currentTarget.value)}
            data-search-input
          />
          <Button type="submit">{ss.submit}</Button>
        </form>
      </search>
      <div aria-live="polite" aria-busy={search.isFetching}>
        {body}
      </div>
    </main>
  );
}
