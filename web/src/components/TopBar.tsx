import { Badge, Button, Group, Text, Title } from "@mantine/core";
import type { Me } from "../api.ts";
import { t } from "../i18n.ts";
import type { LiveState } from "../realtime.ts";

/** The app's banner: who is signed in, whether the live feed is up, and signing out. */
export function TopBar({ me, live }: { me: Me; live: LiveState }) {
  return (
    <header className="top-bar">
      <Group justify="space-between" wrap="nowrap" gap="sm">
        <Group gap="xs" wrap="nowrap">
          <Title order={1} size="h4">
            {t.inbox}
          </Title>
          <Text size="sm" className="muted" truncate>
            {me.workspace.name}
          </Text>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Badge variant="default" role="status" aria-live="polite">
            {live === "live" ? t.live : t.reconnecting}
          </Badge>
          {/* the server-rendered sign-out: a plain form post, the cookie cleared there */}
          <form method="post" action="/logout">
            <Button type="submit" variant="subtle" size="compact-sm" color="dark">
              {t.signOut}
            </Button>
          </form>
        </Group>
      </Group>
    </header>
  );
}
