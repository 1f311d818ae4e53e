import { Alert, Button, Group, Modal, Radio, Stack, Text } from "@mantine/core";
import { useState } from "react";
import type { Conversation } from "../../api.ts";
import { useCustomerConversations, useMerge } from "../../conversation-queries.ts";
import { t } from "../../i18n.ts";
import { navigate } from "../../route.ts";
import { tc } from "../../strings/conversation.ts";
import { Busy } from "../Busy.tsx";

/** Merges the open conversation into another of the same customer, after the agent confirms. */
export function MergeDialog({
  c,
  opened,
  onClose,
}: {
  c: Conversation;
  opened: boolean;
  onClose: () => void;
}) {
  const others = useCustomerConversations(c.customerId, opened);
  const merge = useMerge(c.id);
  const [into, setInto] = useState<string | null>(null);
  const candidates = (others.data ?? []).filter((o) => o.id !== c.id && !o.mergedIntoId);
  const target = candidates.find((o) => o.id === into);
  const confirm = () => {
    if (!target) return;
    merge.mutate(target.id, {
      onSuccess: (result) => {
        onClose();
        navigate({ page: "inbox", conversationId: result.into.id });
      },
    });
  };
  return (
    <Modal
      closeButtonProps={{ "aria-label": tc.close }}
      opened={opened}
      onClose={onClose}
      title={tc.mergeTitle}
      size="lg"
    >
      <Stack gap="sm">
        <Text size="sm">{tc.mergeIntro}</Text>
        {others.isPending ? (
          <Busy label={t.loading} />
        ) : others.isError ? (
          <Alert color="red" role="alert">
            {others.error.message}
          </Alert>
        ) : candidates.length === 0 ? (
          <Text>{tc.mergeNone}</Text>
        ) : (
          <Radio.Group label={tc.mergeTarget} value={into} onChange={setInto}>
            <Stack gap="xs" mt="xs">
              {candidates.map((o) => (
                <Radio
                  key={o.id}
                  value={o.id}
                  label={tc.mergeOption(
                    o.number,
                    t.conversationChannel(o.channel),
                    t.status(o.status),
                    o.subject ?? "",
                  )}
                />
              ))}
            </Stack>
          </Radio.Group>
        )}
        {merge.isError ? (
          <Alert color="red" role="alert">
            {tc.changeFailed(merge.error.message)}
          </Alert>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {tc.cancel}
          </Button>
          <Button color="red.9" disabled={!target} loading={merge.isPending} onClick={confirm}>
            {target ? tc.mergeConfirm(c.number, target.number) : tc.merge}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
