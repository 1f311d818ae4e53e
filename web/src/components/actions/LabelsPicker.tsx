import { Badge, Button, Popover, TagsInput } from "@mantine/core";
import type { Conversation } from "../../api.ts";
import type { ConversationChange } from "../../conversation-queries.ts";
import { useLabels } from "../../directory.ts";
import { tc } from "../../strings/conversation.ts";
import type { Panel } from "./panels.ts";

/** The conversation's labels: pick from those in use, or type a new one. */
export function LabelsPicker({
  c,
  change,
  panel,
  onPanel,
}: {
  c: Conversation;
  change: (patch: ConversationChange) => void;
  panel: Panel;
  onPanel: (p: Panel, closing?: Panel) => void;
}) {
  const labels = useLabels();
  const current = c.labels ?? [];
  return (
    <Popover
      opened={panel === "labels"}
      onChange={(o) => onPanel(o ? "labels" : null, "labels")}
      position="bottom-end"
      trapFocus
      width={280}
    >
      <Popover.Target>
        <Button
          variant="default"
          size="compact-sm"
          onClick={() => onPanel(panel === "labels" ? null : "labels")}
        >
          {tc.labels}
          {current.length > 0 ? (
            <Badge ml={6} size="sm" color="dark" variant="light">
              {current.length}
            </Badge>
          ) : null}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <TagsInput
          label={tc.labelsTitle}
          description={tc.labelsHint}
          data={(labels.data ?? []).map((l) => l.name)}
          value={current}
          onChange={(next) => change({ labels: next })}
          maxLength={64}
          clearable
          data-autofocus
          comboboxProps={{ withinPortal: false }}
        />
      </Popover.Dropdown>
    </Popover>
  );
}
