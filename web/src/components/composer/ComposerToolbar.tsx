import { ActionIcon, Button, Group, Menu, Popover } from "@mantine/core";
import { lazy, Suspense, useRef, useState } from "react";
import { t } from "../../i18n.ts";
import { tc } from "../../strings/conversation.ts";
import { focusFirstItem } from "../actions/panels.ts";
import { CannedPicker } from "./CannedPicker.tsx";

const EmojiGrid = lazy(() => import("./EmojiGrid.tsx").then((m) => ({ default: m.EmojiGrid })));

/** Under the reply box: canned responses, emoji, files, and Send (or Send and resolve). */
export function ComposerToolbar({
  note,
  blocked,
  pending,
  onCanned,
  onEmoji,
  onFiles,
  onSendResolve,
}: {
  note: boolean;
  blocked: boolean;
  pending: boolean;
  onCanned: (id: string) => void;
  onEmoji: (emoji: string) => void;
  onFiles: (files: FileList) => void;
  onSendResolve: () => void;
}) {
  const [emojiOpen, setEmojiOpen] = useState(false);
  const files = useRef<HTMLInputElement>(null);
  return (
    <Group justify="space-between" gap="xs" wrap="wrap">
      <Group gap={4}>
        <CannedPicker onPick={onCanned} />
        <Popover opened={emojiOpen} onChange={setEmojiOpen} position="top-start" trapFocus>
          <Popover.Target>
            <ActionIcon
              variant="subtle"
              color="dark"
              aria-label={tc.emoji}
              onClick={() => setEmojiOpen((o) => !o)}
            >
              <span aria-hidden>☺</span>
            </ActionIcon>
          </Popover.Target>
          <Popover.Dropdown>
            <Suspense fallback={t.loading}>
              <EmojiGrid
                label={tc.emojiList}
                onPick={(emoji) => {
                  setEmojiOpen(false);
                  onEmoji(emoji);
                }}
              />
            </Suspense>
          </Popover.Dropdown>
        </Popover>
        <Button variant="subtle" color="dark" size="compact-sm" onClick={() => files.current?.click()}>
          {tc.attach}
        </Button>
        <input
          ref={files}
          type="file"
          multiple
          hidden
          aria-label={tc.attach}
          onChange={(e) => {
            if (e.currentTarget.files) onFiles(e.currentTarget.files);
            e.currentTarget.value = "";
          }}
        />
      </Group>
      <Group gap={0} wrap="nowrap" className="send-group">
        <Button type="submit" loading={pending} disabled={blocked} color={note ? "dark" : undefined}>
          {note ? tc.addNote : t.send}
        </Button>
        {note ? null : (
          <Menu
            position="top-end"
            trapFocus={false}
            withInitialFocusPlaceholder={false}
            onOpen={() => focusFirstItem()}
          >
            <Menu.Target>
              <ActionIcon
                size={36}
                variant="filled"
                aria-label={tc.moreSend}
                disabled={blocked}
                className="send-more"
              >
                <span aria-hidden>▾</span>
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item onClick={onSendResolve}>{tc.sendResolve}</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        )}
      </Group>
    </Group>
  );
}
