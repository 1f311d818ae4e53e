import { Text } from "@mantine/core";
import { lazy, Suspense, useState } from "react";
import type { Me } from "../api.ts";
import { Busy } from "../components/Busy.tsx";
import { ConversationList } from "../components/ConversationList.tsx";
import { t } from "../i18n.ts";
import { useListPrefs } from "../list-queries.ts";
import { navigate } from "../route.ts";

// the reading pane and the customer beside it load after the list: the first screen stays small
const ConversationView = lazy(() =>
  import("../components/ConversationView.tsx").then((m) => ({ default: m.ConversationView })),
);
const CustomerPanel = lazy(() =>
  import("../components/customer/CustomerPanel.tsx").then((m) => ({ default: m.CustomerPanel })),
);

/**
 * The inbox: the list of conversations, the open one, and its customer in full beside it.
 * On a phone one of them shows at a time (data-screen says which).
 */
export function InboxPage({ me, openId }: { me: Me; openId: string | undefined }) {
  // the agent's view and filters come back on the next visit (per agent, in this browser)
  const [prefs, setPrefs] = useListPrefs(me.user.id);
  // on narrower screens the customer opens over the conversation, on demand
  const [customerOpen, setCustomerOpen] = useState(false);
  const open = (id: string | undefined) => navigate({ page: "inbox", conversationId: id });
  return (
    <div className="layout" data-screen={openId ? "conversation" : "list"}>
      <nav className="pane list-pane" aria-label={t.conversations}>
        <ConversationList
          view={prefs.view}
          onView={(view) => setPrefs({ ...prefs, view })}
          filters={prefs.filters}
          onFilters={(filters) => setPrefs({ ...prefs, filters })}
          openId={openId}
          onOpen={open}
        />
      </nav>
      <main id="main" className="pane conversation-pane" tabIndex={-1}>
        {openId ? (
          <Suspense fallback={<Busy label={t.loading} />}>
            <ConversationView
              key={openId}
              id={openId}
              onBack={() => open(undefined)}
              onCustomer={() => setCustomerOpen((o) => !o)}
            />
          </Suspense>
        ) : (
          <Text className="placeholder">{t.pickConversation}</Text>
        )}
      </main>
      {openId ? (
        <aside className="pane customer-pane" aria-label={t.customerPanel} data-open={customerOpen}>
          <Suspense fallback={<Busy label={t.loading} />}>
            <CustomerPanel key={openId} conversationId={openId} />
          </Suspense>
        </aside>
      ) : null}
    </div>
  );
}
