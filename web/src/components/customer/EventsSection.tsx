import { Text } from "@mantine/core";
import { formatDateTime } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import { useEvents } from "./customer-api.ts";
import { LoadMore } from "./LoadMore.tsx";
import { SectionState } from "./SectionState.tsx";
import type { SectionProps } from "./sections.ts";
import { TraitValue } from "./TraitValue.tsx";

/** What the customer did, as the brand's apps reported it: newest first, more on demand. */
export function EventsSection({ customer, full }: SectionProps) {
  const events = useEvents(customer.id, full ? 25 : 10);
  const rows = events.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <SectionState
      pending={events.isPending}
      error={events.error}
      empty={rows.length === 0}
      emptyText={cs.noEvents}
    >
      <ol className="c360-list" data-section="events">
        {rows.map((e) => (
          <li key={e.id} data-event={e.name ?? e.type}>
            <Text size="sm" fw={600}>
              {e.name ?? e.type}
            </Text>
            <Text size="xs" c="gray.7">
              {e.type} · <time dateTime={e.timestamp}>{formatDateTime(e.timestamp)}</time>
            </Text>
            {Object.keys(e.properties).length > 0 ? (
              <div className="c360-event-props">
                <span className="c360-visually-hidden">{cs.eventProperties}: </span>
                <TraitValue value={e.properties} />
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      <LoadMore
        hasMore={events.hasNextPage}
        loading={events.isFetchingNextPage}
        onMore={() => void events.fetchNextPage()}
      />
    </SectionState>
  );
}
