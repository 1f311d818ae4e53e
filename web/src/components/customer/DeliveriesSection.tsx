import { Text } from "@mantine/core";
import { formatDateTime, t } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import { useDeliveries } from "./customer-api.ts";
import { LoadMore } from "./LoadMore.tsx";
import { SectionState } from "./SectionState.tsx";
import type { SectionProps } from "./sections.ts";

/** What was sent (or held back) to the customer: channel, topic, state, time. */
export function DeliveriesSection({ customer, full }: SectionProps) {
  const list = useDeliveries(customer.id, full ? 25 : 10);
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <SectionState
      pending={list.isPending}
      error={list.error}
      empty={rows.length === 0}
      emptyText={cs.noDeliveries}
    >
      <ol className="c360-list" data-section="deliveries">
        {rows.map((d) => {
          const at = d.sentAt ?? d.createdAt;
          const what = d.content?.subject ?? d.content?.title ?? d.content?.text;
          return (
            <li key={d.id} data-delivery-state={d.state}>
              <Text size="sm">
                {t.channel(d.channel)} · {cs.deliveryTopic(d.topic)} · <strong>{t.delivery(d.state)}</strong>
              </Text>
              {what ? (
                <Text size="xs" lineClamp={1}>
                  {what}
                </Text>
              ) : null}
              <Text size="xs" c="gray.7">
                <time dateTime={at}>{formatDateTime(at)}</time>
              </Text>
            </li>
          );
        })}
      </ol>
      <LoadMore
        hasMore={list.hasNextPage}
        loading={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
      />
    </SectionState>
  );
}
