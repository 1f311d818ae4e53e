import { Alert, Loader, SegmentedControl, Text, UnstyledButton } from "@mantine/core";
import type { Conversation } from "../api.ts";
import { formatTime, t } from "../i18n.ts";
import { useConversations, type View } from "../queries.ts";

type Props = {
  view: View;
  onView: (view: View) => void;
  meId: string;
  openId: string | undefined;
  onOpen: (id: string) => void;
};

const VIEWS: View[] = ["mine", "unassigned", "all"];

/** Who the conversation is with, as well as the list knows: the address they wrote from. */
function who(c: Conversation): string {
  return c.contactAddress ?? c.subject ?? t.unknownCustomer;
}

/** The views (mine, unassigned, all) and their open conversations, newest activity first. */
export function ConversationList({ view, onView, meId, openId, onOpen }: Props) {
  const list = useConversations(view, meId);
  return (
    <div className="list">
      <h2 className="visually-hidden" id="list-title">
        {t.conversations}
      </h2>
      <SegmentedControl
        fullWidth
        aria-label={t.viewsLabel}
        value={view}
        onChange={(v) => {
          const next = VIEWS.find((x) => x === v);
          if (next) onView(next);
        }}
        data={VIEWS.map((v) => ({ value: v, label: t.views[v] }))}
      />
      {list.isPending ? (
        <Loader size="sm" aria-label={t.loading} className="list-state" />
      ) : list.isError ? (
        <Alert color="red" className="list-state">
          {t.loadFailed}
        </Alert>
      ) : list.data.length === 0 ? (
        <Text className="list-state">{t.noConversations}</Text>
      ) : (
        <ul className="conversation-list" aria-labelledby="list-title">
          {list.data.map((c) => (
            <li key={c.id}>
              <UnstyledButton
                className="conversation-row"
                aria-current={c.id === openId ? "true" : undefined}
                data-conversation-id={c.id}
                onClick={() => onOpen(c.id)}
              >
                <span className="row-top">
                  <span className="row-who">{who(c)}</span>
                  <time dateTime={c.lastMessageAt} className="row-time">
                    {formatTime(c.lastMessageAt)}
                  </time>
                </span>
                <span className="row-meta">
                  {t.channel(c.channel)} · {t.status(c.status)} · #{c.number}
                </span>
              </UnstyledButton>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
