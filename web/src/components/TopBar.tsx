import { Alert, Badge, Button, Group, NativeSelect, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, isAdmin, type Me, NoContent } from "../api.ts";
import { LANGUAGES, type Language, language, t } from "../i18n.ts";
import { keys } from "../queries.ts";
import type { LiveState } from "../realtime.ts";
import { followLink, pathFor, type Route } from "../route.ts";

type Props = { me: Me; live: LiveState; route: Route; onLanguage: (lang: Language) => void };

/** The app's banner: where to go, whether the live feed is up, the agent's language, signing out. */
export function TopBar({ me, live, route, onLanguage }: Props) {
  const client = useQueryClient();
  const saveLanguage = useMutation({
    mutationFn: (locale: Language) =>
      api(NoContent, "/api/v1/auth/me", { method: "PATCH", body: { locale } }),
    onSuccess: (_r, locale) => {
      onLanguage(locale);
      void client.invalidateQueries({ queryKey: keys.me });
    },
  });
  const links: Array<{ to: Route; label: string; current: boolean }> = [
    { to: { page: "inbox", conversationId: undefined }, label: t.inbox, current: route.page === "inbox" },
    { to: { page: "search", q: "" }, label: t.search, current: route.page === "search" },
  ];
  // the simulator plays customers into real inboxes: admins anywhere, everyone on the demo workspace
  if (isAdmin(me) || me.workspace.slug === "demo") {
    links.push({ to: { page: "simulator" }, label: t.simulator, current: route.page === "simulator" });
  }
  if (isAdmin(me)) {
    links.push({
      to: { page: "admin", section: undefined },
      label: t.admin,
      current: route.page === "admin",
    });
  }
  return (
    <header className="top-bar">
      <Group justify="space-between" wrap="nowrap" gap="sm">
        <Group gap="sm" wrap="nowrap" className="top-left">
          <Title order={1} size="h4" className="brand">
            {t.appName}
          </Title>
          <nav aria-label={t.mainNav} className="main-nav">
            {links.map((l) => (
              <a
                key={l.to.page}
                href={pathFor(l.to)}
                aria-current={l.current ? "page" : undefined}
                onClick={(e) => followLink(e, l.to)}
              >
                {l.label}
              </a>
            ))}
          </nav>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Badge variant="default" role="status" aria-live="polite">
            {live === "live" ? t.live : t.reconnecting}
          </Badge>
          <NativeSelect
            aria-label={t.languageLabel}
            size="xs"
            value={language()}
            disabled={saveLanguage.isPending}
            onChange={(e) => {
              const next = LANGUAGES.find((l) => l === e.currentTarget.value);
              if (next) saveLanguage.mutate(next);
            }}
            data={LANGUAGES.map((l) => ({ value: l, label: t.languages[l] }))}
          />
          {/* the server-rendered sign-out: a plain form post, the cookie cleared there */}
          <form method="post" action="/logout">
            <Button type="submit" variant="subtle" size="compact-sm" color="dark">
              {t.signOut}
            </Button>
          </form>
        </Group>
      </Group>
      {saveLanguage.isError ? (
        <Alert color="red" role="alert" className="top-alert">
          {t.languageFailed(saveLanguage.error.message)}
        </Alert>
      ) : null}
    </header>
  );
}
