import { Button, Menu } from "@mantine/core";
import type { Conversation } from "../../api.ts";
import type { ConversationChange } from "../../conversation-queries.ts";
import { formatDateTime, t } from "../../i18n.ts";
import { tc } from "../../strings/conversation.ts";
import { focusFirstItem, type Panel } from "./panels.ts";
import { type SnoozePreset, snoozeUntil } from "./snooze-times.ts";

const PRESETS: Array<{ preset: SnoozePreset; label: () => string }> = [
  { preset: "hour", label: () => tc.snoozeHour },
  { preset: "tomorrow", label: () => tc.snoozeTomorrow },
  { preset: "monday", label: () => tc.snoozeMonday },
];

/** Resolve or Reopen, the status menu (open, pending) and Snooze with its presets. */
export function StatusActions({
  c,
  change,
  pending,
  panel,
  onPanel,
}: {
  c: Conversation;
  change: (patch: ConversationChange) => void;
  pending: boolean;
  panel: Panel;
  onPanel: (p: Panel, closing?: Panel) => void;
}) {
  const resolved = c.status === "resolved";
  return (
    <>
      {resolved ? (
        <Button variant="default" size="compact-sm" onClick={() => change({ status: "open" })}>
          {tc.reopen}
        </Button>
      ) : (
        <Button
          size="compact-sm"
          onClick={() => change({ status: "resolved" })}
          loading={pending}
          color="teal.9"
        >
          {t.resolve}
        </Button>
      )}
      <Menu
        opened={panel === "status"}
        onChange={(o) => onPanel(o ? "status" : null, "status")}
        position="bottom-end"
        trapFocus={false}
        withInitialFocusPlaceholder={false}
        onOpen={() => focusFirstItem()}
      >
        <Menu.Target>
          <Button variant="default" size="compact-sm">
            {tc.statusMenu}
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {(["open", "pending"] as const).map((s) => (
            <Menu.Item key={s} disabled={c.status === s} onClick={() => change({ status: s })}>
              {tc.setStatus(t.status(s))}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Menu
        opened={panel === "snooze"}
        onChange={(o) => onPanel(o ? "snooze" : null, "snooze")}
        position="bottom-end"
        trapFocus={false}
        withInitialFocusPlaceholder={false}
        onOpen={() => focusFirstItem()}
      >
        <Menu.Target>
          <Button
            variant="default"
            size="compact-sm"
            title={c.snoozedUntil ? tc.snoozedUntil(formatDateTime(c.snoozedUntil)) : undefined}
          >
            {tc.snooze}
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {PRESETS.map((p) => (
            <Menu.Item
              key={p.preset}
              onClick={() => change({ status: "snoozed", snoozedUntil: snoozeUntil(p.preset).toISOString() })}
            >
              {p.label()}
            </Menu.Item>
          ))}
          <Menu.Divider />
          <Menu.Item onClick={() => onPanel("snoozeCustom")}>{tc.snoozeCustom}</Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </>
  );
}
