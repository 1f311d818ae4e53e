import { Alert, Loader, Text } from "@mantine/core";
import { lazy, Suspense, useEffect, useState } from "react";
import { isAdmin } from "../api.ts";
import { browserLanguage, LANGUAGES, type Language, language, setLanguage, t } from "../i18n.ts";
import { InboxPage } from "../pages/InboxPage.tsx";
import { useMe } from "../queries.ts";
import { useRealtime } from "../realtime.ts";
import { useRoute } from "../route.ts";
import { TopBar } from "./TopBar.tsx";

// the other pages load when first opened: the inbox, where agents start, stays small
const SearchPage = lazy(() => import("../pages/SearchPage.tsx").then((m) => ({ default: m.SearchPage })));
const CustomerPage = lazy(() =>
  import("../pages/CustomerPage.tsx").then((m) => ({ default: m.CustomerPage })),
);
const AdminPage = lazy(() => import("../pages/AdminPage.tsx").then((m) => ({ default: m.AdminPage })));
const SimulatorPage = lazy(() =>
  import("../pages/SimulatorPage.tsx").then((m) => ({ default: m.SimulatorPage })),
);

function asLanguage(value: string | null | undefined): Language | undefined {
  return LANGUAGES.find((l) => l === value);
}

/** The app: the top bar, and the page the address names. */
export function App() {
  const me = useMe();
  const live = useRealtime();
  const route = useRoute();
  // the tree is keyed by language: every string is read again when the agent changes it
  const [lang, setLang] = useState<Language>(language);
  const chosen = asLanguage(me.data?.user.locale);
  useEffect(() => {
    const next = chosen ?? browserLanguage();
    setLanguage(next);
    setLang(next);
  }, [chosen]);

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

  const loading = (
    <div className="center" role="status">
      <Loader size="sm" aria-hidden />
      <Text>{t.loading}</Text>
    </div>
  );
  let page: React.ReactNode;
  switch (route.page) {
    case "inbox":
      page = <InboxPage me={me.data} openId={route.conversationId} />;
      break;
    case "search":
      page = <SearchPage q={route.q} />;
      break;
    case "customer":
      page = <CustomerPage id={route.id} />;
      break;
    case "admin":
      page = isAdmin(me.data) ? (
        <AdminPage me={me.data} section={route.section} />
      ) : (
        <main id="main" className="center" tabIndex={-1}>
          <Alert color="red" role="alert">
            {t.adminOnly}
          </Alert>
        </main>
      );
      break;
    case "simulator":
      page = <SimulatorPage me={me.data} />;
      break;
    case "not_found":
      page = (
        <main id="main" className="center" tabIndex={-1}>
          <Text>{t.notFound}</Text>
        </main>
      );
      break;
  }

  return (
    <div className="app" key={lang}>
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <TopBar
        me={me.data}
        live={live}
        route={route}
        onLanguage={(l) => {
          setLanguage(l);
          setLang(l);
        }}
      />
      <Suspense fallback={loading}>{page}</Suspense>
    </div>
  );
}
