import { Text } from "@mantine/core";
import { formatDateTime, t } from "../../i18n.ts";
import { followLink, pathFor } from "../../route.ts";
import { cs } from "../../strings/customer.ts";
import { useCustomerConversations } from "./customer-api.ts";
import { LoadMore } from "./LoadMore.tsx";
import { SectionState } from "./SectionState.tsx";
import type { SectionProps } from "./sections.ts";

/** The customer's conversations on every channel (beside a conversation: the others). */
export function ConversationsSection({ customer, full, currentConversationId }: SectionProps) {
  const list = useCustomerConversations(customer.id, full ? 25 : 10);
  const rows = (list.data?.pages.flatMap((p) => p.data) ?? []).filter((c) => c.id !== currentConversationId);
  return (
    <SectionState
      pending={list.isPending}
      error={list.error}
      empty={rows.length === 0}
      emptyText={cs.noConversations}
    >
      <ul className="c360-list" data-section="conversations">
        {rows.map((c) => {
          const to = { page: "inbox" as const, conversationId: c.id };
          return (
            <li key={c.id} data-conversation-link={c.id}>
              <a href={pathFor(to)} onClick={(e) => followLink(e, to)} className="c360-link">
                {cs.conversationLabel(c.number)}
                {c.subject ? ` · ${c.subject}` : ""}
              </a>
              <Text size="xs" c="gray.7">
                {t.conversationChannel(c.channel)} · {t.status(c.status)} ·{" "}
                <time dateTime={c.lastMessageAt}>{formatDateTime(c.lastMessageAt)}</time>
              </Text>
              {c.lastMessage ? (
                <Text size="xs" lineClamp={1}>
                  {c.lastMessage.preview}
                </Text>
              ) : null}
            </li>
          );
        })}
      </ul>
      <LoadMore
        hasMore={list.hasNextPage}
        loading={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
      />
    </SectionState>
  );
}
