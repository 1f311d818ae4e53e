import { Badge, Group, Text, Title } from "@mantine/core";
import { Fragment } from "react";
import { formatDateTime, t } from "../../i18n.ts";
import { followLink, pathFor } from "../../route.ts";
import { ss } from "../../strings/search.ts";
import { splitMatches } from "./highlight.ts";
import type { ConversationHit, CustomerHit, SearchResult } from "./search-api.ts";

/** Text with the searched words in <mark>: split as text, never parsed as HTML. */
export function Highlighted({ text, query }: { text: string; query: string }) {
  return (
    <>
      {splitMatches(text, query).map((s, i) =>
        s.match ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional and never reorder
          <mark key={i}>{s.text}</mark>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional and never reorder
          <Fragment key={i}>{s.text}</Fragment>
        ),
      )}
    </>
  );
}

function CustomerRow({ hit, query }: { hit: CustomerHit; query: string }) {
  const to = { page: "customer" as const, id: hit.id };
  return (
    <li className="search-row" data-customer-hit={hit.id}>
      <a href={pathFor(to)} onClick={(e) => followLink(e, to)} className="search-link">
        <Highlighted text={hit.name ?? hit.email ?? hit.phone ?? ss.unnamed} query={query} />
      </a>
      <Text size="sm">
        {[hit.email, hit.phone]
          .filter((v): v is string => v !== null)
          .map((v, i) => (
            <Fragment key={v}>
              {i > 0 ? " · " : ""}
              <Highlighted text={v} query={query} />
            </Fragment>
          ))}
      </Text>
      <Text size="xs" c="gray.7">
        {ss.matched(hit.matched)}
      </Text>
    </li>
  );
}

function ConversationRow({ hit, query }: { hit: ConversationHit; query: string }) {
  const to = { page: "inbox" as const, conversationId: hit.id };
  return (
    <li className="search-row" data-conversation-hit={hit.id}>
      <a href={pathFor(to)} onClick={(e) => followLink(e, to)} className="search-link">
        <Highlighted text={ss.conversationTitle(hit.number, hit.subject)} query={query} />
      </a>
      <Group gap="xs" wrap="wrap">
        <Text size="sm">{hit.customerName ?? ss.unnamed}</Text>
        <Badge variant="outline" color="dark" size="sm">
          {t.channel(hit.channel)}
        </Badge>
        <Badge variant="outline" color="dark" size="sm">
          {t.status(hit.status)}
        </Badge>
        <Text size="xs" c="gray.7">
          <time dateTime={hit.lastMessageAt}>{formatDateTime(hit.lastMessageAt)}</time>
        </Text>
      </Group>
      {hit.snippet ? (
        <Text size="sm" className="search-snippet">
          <Highlighted text={hit.snippet} query={query} />
        </Text>
      ) : null}
    </li>
  );
}

/** The two groups of results: customers, then conversations. */
export function SearchResults({ result, query }: { result: SearchResult; query: string }) {
  return (
    <div className="search-groups">
      <section aria-labelledby="search-customers" className="search-group">
        <Title order={2} size="h4" id="search-customers">
          {ss.customers(result.customers.length)}
        </Title>
        {result.customers.length === 0 ? (
          <Text size="sm" c="gray.7">
            {ss.noCustomers}
          </Text>
        ) : (
          <ul className="search-list">
            {result.customers.map((c) => (
              <CustomerRow key={c.id} hit={c} query={query} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="search-conversations" className="search-group">
        <Title order={2} size="h4" id="search-conversations">
          {ss.conversations(result.conversations.length)}
        </Title>
        {result.conversations.length === 0 ? (
          <Text size="sm" c="gray.7">
            {ss.noConversations}
          </Text>
        ) : (
          <ul className="search-list">
            {result.conversations.map((c) => (
              <ConversationRow key={c.id} hit={c} query={query} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
