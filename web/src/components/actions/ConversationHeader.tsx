import { ActionIcon, Alert, Anchor, Badge, Button, Group, Text, Title, Tooltip } from "@mantine/core";
import type { Ref } from "react";
import type { Conversation } from "../../api.ts";
import type { ConversationChange } from "../../conversation-queries.ts";
import { formatDateTime, t } from "../../i18n.ts";
import { followLink, pathFor } from "../../route.ts";
import { tc } from "../../strings/conversation.ts";
import { AssignMenu, PriorityMenu, TeamMenu } from "./AssignMenus.tsx";
import { LabelsPicker } from "./LabelsPicker.tsx";
import type { Panel } from "./panels.ts";
import { StatusActions } from "./StatusActions.tsx";

/** The conversation's name, channel, number and status, and every action on it. */
export function ConversationHeader({
  c,
  meId,
  change,
  pending,
  error,
  panel,
  onPanel,
  onBack,
  onCustomer,
  heading,
}: {
  c: Conversation;
  meId: string | undefined;
  change: (patch: ConversationChange) => void;
  pending: boolean;
  error: string | null;
  panel: Panel;
  onPanel: (p: Panel, closing?: Panel) => void;
  onBack: () => void;
  onCustomer: (() => void) | undefined;
  heading: Ref<HTMLHeadingElement>;
}) {
  const name = c.customerName ?? c.contactAddress ?? c.subject ?? t.conversationTitle(c.number);
  const merged = Boolean(c.mergedIntoId);
  const into = { page: "inbox" as const, conversationId: c.mergedIntoId ?? undefined };
  const props = { c, change, panel, onPanel };
  return (
    <div className="conversation-head">
      <Group justify="space-between" wrap="nowrap" gap="xs" className="head-top">
        <Button variant="subtle" color="dark" size="compact-sm" className="back" onClick={onBack}>
          ← {t.back}
        </Button>
        {onCustomer ? (
          <Button variant="default" size="compact-sm" className="customer-toggle" onClick={onCustomer}>
            {tc.customerToggle}
          </Button>
        ) : null}
      </Group>
      <Group justify="space-between" wrap="wrap" gap="sm" align="flex-start">
        <div className="head-title">
          <Title order={2} size="h4" ref={heading} tabIndex={-1}>
            {name}
          </Title>
          <Text size="sm" className="muted">
            {t.conversationChannel(c.channel)}
            {c.contactAddress && c.contactAddress !== name ? ` · ${c.contactAddress}` : ""} · #{c.number} ·{" "}
            <span data-status={c.status}>{t.status(c.status)}</span>
            {c.status === "snoozed" && c.snoozedUntil
              ? ` · ${tc.snoozedUntil(formatDateTime(c.snoozedUntil))}`
              : ""}
          </Text>
          {(c.labels ?? []).length > 0 ? (
            <Group gap={4} mt={4} className="head-labels">
              {(c.labels ?? []).map((l) => (
                <Badge key={l} size="sm" variant="light" color="indigo.9">
                  {l}
                </Badge>
              ))}
            </Group>
          ) : null}
        </div>
        {c.status === "resolved" ? (
          <Text fw={700} role="status" className="resolved">
            {t.resolved}
          </Text>
        ) : null}
      </Group>
      {merged ? (
        <Alert color="gray" mt="xs">
          {tc.merged}{" "}
          <Anchor href={pathFor(into)} onClick={(e) => followLink(e, into)}>
            {tc.openMerged}
          </Anchor>
        </Alert>
      ) : (
        <Group gap={6} mt="xs" wrap="wrap" role="toolbar" aria-label={tc.actions} className="head-actions">
          <StatusActions {...props} pending={pending} />
          <AssignMenu {...props} meId={meId} />
          <TeamMenu {...props} />
          <LabelsPicker {...props} />
          <PriorityMenu {...props} />
          <Button variant="default" size="compact-sm" onClick={() => onPanel("merge")}>
            {tc.merge}
          </Button>
          <Tooltip label={tc.shortcuts}>
            <ActionIcon variant="default" size="md" aria-label={tc.shortcuts} onClick={() => onPanel("help")}>
              ?
            </ActionIcon>
          </Tooltip>
        </Group>
      )}
      {error ? (
        <Alert color="red" role="alert" mt="xs">
          {tc.changeFailed(error)}
        </Alert>
      ) : null}
    </div>
  );
}
