import { Text, Title } from "@mantine/core";
import { formatDateTime, language, t } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import { ConsentGrid } from "./ConsentGrid.tsx";
import { useConsent, useLedger } from "./customer-api.ts";
import { LoadMore } from "./LoadMore.tsx";
import { SectionState } from "./SectionState.tsx";
import type { SectionProps } from "./sections.ts";

/** Consent per topic and channel, then the history of changes, newest first. */
export function ConsentSection({ customer, full, level }: SectionProps) {
  const consent = useConsent(customer.id);
  const ledger = useLedger(customer.id, full ? 25 : 5);
  const entries = ledger.data?.pages.flatMap((p) => p.data) ?? [];
  const topicName = new Map(
    (consent.data?.topics ?? []).map((tp) => [tp.key, tp.names[language()] ?? tp.names.en ?? tp.key]),
  );
  return (
    <div className="c360-section">
      <SectionState
        pending={consent.isPending}
        error={consent.error}
        empty={(consent.data?.topics ?? []).length === 0}
        emptyText={cs.noTopics}
      >
        {consent.data ? <ConsentGrid overview={consent.data} /> : null}
      </SectionState>
      {consent.data ? (
        <Text size="xs" c="gray.7">
          {cs.preferences(consent.data.timezone, consent.data.language)}
        </Text>
      ) : null}
      {consent.data && consent.data.suppressions.length > 0 ? (
        <>
          <Title order={level} size="h6" className="c360-subheading">
            {cs.suppressed}
          </Title>
          <ul className="c360-list">
            {consent.data.suppressions.map((s) => (
              <li key={`${s.channel}:${s.address ?? s.createdAt}`}>
                <Text size="sm">
                  {t.channel(s.channel)} · {s.address ?? "—"} ({s.reason})
                </Text>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <Title order={level} size="h6" className="c360-subheading">
        {cs.ledger}
      </Title>
      <SectionState
        pending={ledger.isPending}
        error={ledger.error}
        empty={entries.length === 0}
        emptyText={cs.noLedger}
      >
        <ol className="c360-list" data-section="ledger">
          {entries.map((e) => (
            <li key={e.id} data-ledger-entry={e.status}>
              <Text size="sm">
                {cs.ledgerEntry(
                  t.channel(e.channel),
                  e.topic ? (topicName.get(e.topic) ?? e.topic) : cs.allTopics,
                  e.status === "subscribed",
                )}
              </Text>
              <Text size="xs" c="gray.7">
                {cs.source(e.source)} · <time dateTime={e.createdAt}>{formatDateTime(e.createdAt)}</time>
              </Text>
            </li>
          ))}
        </ol>
        <LoadMore
          hasMore={ledger.hasNextPage}
          loading={ledger.isFetchingNextPage}
          onMore={() => void ledger.fetchNextPage()}
        />
      </SectionState>
    </div>
  );
}
