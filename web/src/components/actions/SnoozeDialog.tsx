import { Button, Group, Modal, Text, TextInput } from "@mantine/core";
import { type FormEvent, useId, useState } from "react";
import { tc } from "../../strings/conversation.ts";
import { fromLocalInput, snoozeUntil, toLocalInput } from "./snooze-times.ts";

/** Snooze until a date and time the agent picks. */
export function SnoozeDialog({
  opened,
  onClose,
  onSnooze,
}: {
  opened: boolean;
  onClose: () => void;
  onSnooze: (until: Date) => void;
}) {
  const [value, setValue] = useState(() => toLocalInput(snoozeUntil("tomorrow")));
  const [problem, setProblem] = useState<string | null>(null);
  const errorId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const until = fromLocalInput(value);
    if (!until || until.getTime() <= Date.now()) {
      setProblem(tc.snoozePast);
      return;
    }
    onSnooze(until);
    onClose();
  };
  return (
    <Modal
      closeButtonProps={{ "aria-label": tc.close }}
      opened={opened}
      onClose={onClose}
      title={tc.snoozeCustomTitle}
    >
      <form onSubmit={submit} noValidate>
        <TextInput
          type="datetime-local"
          label={tc.snoozeWhen}
          value={value}
          onChange={(e) => {
            setValue(e.currentTarget.value);
            setProblem(null);
          }}
          aria-invalid={problem !== null}
          aria-describedby={problem ? errorId : undefined}
          data-autofocus
        />
        {problem ? (
          <Text size="sm" c="red.9" mt={4} id={errorId} role="alert">
            {problem}
          </Text>
        ) : null}
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={onClose}>
            {tc.cancel}
          </Button>
          <Button type="submit">{tc.snoozeConfirm}</Button>
        </Group>
      </form>
    </Modal>
  );
}
