import { Button, Popover, TextInput, UnstyledButton } from "@mantine/core";
import { useState } from "react";
import { filterCanned, useCannedResponses } from "../../directory.ts";
import { t } from "../../i18n.ts";
import { tc } from "../../strings/conversation.ts";

/** The canned responses behind a button: search, then pick one to insert. */
export function CannedPicker({ onPick }: { onPick: (id: string) => void }) {
  const [opened, setOpened] = useState(false);
  const [q, setQ] = useState("");
  const canned = useCannedResponses(opened);
  const items = filterCanned(canned.data ?? [], q).slice(0, 20);
  return (
    <Popover opened={opened} onChange={setOpened} position="top-start" trapFocus width={320}>
      <Popover.Target>
        <Button variant="subtle" color="dark" size="compact-sm" onClick={() => setOpened((o) => !o)}>
          {tc.cannedButton}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <TextInput
          label={tc.cannedSearch}
          value={q}
          onChange={(e) => setQ(e.currentTarget.value)}
          data-autofocus
        />
        <ul className="canned-list" aria-label={tc.cannedList}>
          {canned.isPending ? (
            <li>{t.loading}</li>
          ) : items.length === 0 ? (
            <li>{tc.cannedNone}</li>
          ) : (
            items.map((c) => (
              <li key={c.id}>
                <UnstyledButton
                  className="canned-item"
                  onClick={() => {
                    setOpened(false);
                    onPick(c.id);
                  }}
                >
                  <span className="suggestion-label">/{c.shortcut}</span>{" "}
                  <span className="suggestion-detail">{c.title}</span>
                </UnstyledButton>
              </li>
            ))
          )}
        </ul>
      </Popover.Dropdown>
    </Popover>
  );
}
