import { Alert, Loader, Text } from "@mantine/core";
import { lazy, Suspense, useState } from "react";
import { t } from "../i18n.ts";
import { useMe, type View } from "../queries.ts";
import { useRealtime } from "../realtime.ts";
import { useOpenConversation } from "../route.ts";
import { ConversationList } from "./ConversationList.tsx";
import { TopBar } from "./TopBar.tsx";

// the reading pane loads after the list: the first screen an agent sees stays small
const ConversationView = lazy(() =>
  import("./ConversationView.tsx").then((m) => ({ default: m.ConversationView })),
);

/** The inbox: the list of conversations beside the open one (one screen at a time on a phone). */
export function App() {
  const me = useMe();
  const live = useRealtime();
  const [view, setView] = useState<View>("all");
  const [openId, open] = useOpenConversation();

  if (me.isPending) {
    return (
      <div className="center" role="status">
        <Loader size="sm" aria-hidden />
        <Text>{t.loading}</Text>
      </div>
    );
  }
  if (me.isError) {
    return (
      <main className="center">
        <Alert color="red" title={t.loadFailed}>
          {me.error.message}
        </Alert>
      </main>
    );
  }

  return (
    <>
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <TopBar me={me.data} live={live} />
      <div className="layout" data-screen={openId ? "conversation" : "list"}>
        <nav className="pane list-pane" aria-label={t.conversations}>
          <ConversationList
            view={view}
            onView={setView}
            meId={me.data.user.id}
            openId={openId}
            onOpen={open}
          />
        </nav>
        <main id="main" className="pane conversation-pane" tabIndex={-1}>
          {openId ? (
            <Suspense fallback={<Loader size="sm" aria-label={t.loading} />}>
              <ConversationView key={openId} id={openId} onBack={() => open(undefined)} />
            </Suspense>
          ) : (
            <Text className="placeholder">{t.pickConversation}</Text>
          )}
        </main>
      </div>
    </>
  );
}
