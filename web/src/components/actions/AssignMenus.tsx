import { Button, Menu } from "@mantine/core";
import type { Conversation } from "../../api.ts";
import type { ConversationChange } from "../../conversation-queries.ts";
import { agentName, useAgents, useTeams } from "../../directory.ts";
import { t } from "../../i18n.ts";
import { tc } from "../../strings/conversation.ts";
import { focusFirstItem, type Panel } from "./panels.ts";

type Props = {
  c: Conversation;
  meId: string | undefined;
  change: (patch: ConversationChange) => void;
  panel: Panel;
  onPanel: (p: Panel, closing?: Panel) => void;
};

/** Who has the conversation: me, another agent, or nobody. */
export function AssignMenu({ c, meId, change, panel, onPanel }: Props) {
  const agents = useAgents();
  const name = agentName(agents.data, c.assigneeId);
  return (
    <Menu
      opened={panel === "assign"}
      onChange={(o) => onPanel(o ? "assign" : null, "assign")}
      position="bottom-end"
      trapFocus={false}
      withInitialFocusPlaceholder={false}
      onOpen={() => focusFirstItem()}
    >
      <Menu.Target>
        <Button
          variant="default"
          size="compact-sm"
          className="assignee"
          data-assignee-id={c.assigneeId ?? ""}
        >
          {c.assigneeId ? tc.assignedTo(name ?? "…") : tc.unassigned}
        </Button>
      </Menu.Target>
      <Menu.Dropdown className="picker-menu">
        {meId && c.assigneeId !== meId ? (
          <Menu.Item onClick={() => change({ assigneeId: meId })}>{tc.assignMe}</Menu.Item>
        ) : null}
        {(agents.data ?? [])
          .filter((a) => a.id !== meId)
          .map((a) => (
            <Menu.Item
              key={a.id}
              disabled={a.id === c.assigneeId}
              onClick={() => change({ assigneeId: a.id })}
            >
              {a.name}
            </Menu.Item>
          ))}
        {c.assigneeId ? (
          <>
            <Menu.Divider />
            <Menu.Item onClick={() => change({ assigneeId: null })}>{tc.unassign}</Menu.Item>
          </>
        ) : null}
      </Menu.Dropdown>
    </Menu>
  );
}

/** The team the conversation is with. */
export function TeamMenu({ c, change, panel, onPanel }: Omit<Props, "meId">) {
  const teams = useTeams();
  const current = teams.data?.find((x) => x.id === c.teamId);
  return (
    <Menu
      opened={panel === "team"}
      onChange={(o) => onPanel(o ? "team" : null, "team")}
      position="bottom-end"
      trapFocus={false}
      withInitialFocusPlaceholder={false}
      onOpen={() => focusFirstItem()}
    >
      <Menu.Target>
        <Button variant="default" size="compact-sm">
          {current ? tc.teamOf(current.name) : tc.team}
        </Button>
      </Menu.Target>
      <Menu.Dropdown className="picker-menu">
        {teams.data?.length === 0 ? <Menu.Label>{tc.noTeams}</Menu.Label> : null}
        {(teams.data ?? []).map((team) => (
          <Menu.Item
            key={team.id}
            disabled={team.id === c.teamId}
            onClick={() => change({ teamId: team.id })}
          >
            {team.name}
          </Menu.Item>
        ))}
        {c.teamId ? (
          <>
            <Menu.Divider />
            <Menu.Item onClick={() => change({ teamId: null })}>{tc.noTeam}</Menu.Item>
          </>
        ) : null}
      </Menu.Dropdown>
    </Menu>
  );
}

const PRIORITIES = ["urgent", "high", "medium", "low", "none"] as const;

/** How urgent the conversation is. */
export function PriorityMenu({ c, change, panel, onPanel }: Omit<Props, "meId">) {
  const priority = c.priority ?? "none";
  return (
    <Menu
      opened={panel === "priority"}
      onChange={(o) => onPanel(o ? "priority" : null, "priority")}
      position="bottom-end"
      trapFocus={false}
      withInitialFocusPlaceholder={false}
      onOpen={() => focusFirstItem()}
    >
      <Menu.Target>
        <Button variant="default" size="compact-sm" data-priority={priority}>
          {priority === "none" ? tc.priority : `${tc.priority}: ${t.priority(priority)}`}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {PRIORITIES.map((p) => (
          <Menu.Item key={p} disabled={p === priority} onClick={() => change({ priority: p })}>
            {t.priority(p)}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
