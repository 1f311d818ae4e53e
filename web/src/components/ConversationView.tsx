import { Alert, Button, Group, Loader, Text, Title } from "@mantine/core";
import { useEffect, useRef } from "react";
import { t } from "../i18n.ts";
import { useConversation, useMessages, useResolve } from "../queries.ts";
import { Composer } from "./Composer.tsx";
import { MessageItem } from "./MessageItem.tsx";

/** One conversation as its channel shows it: the messages, a reply box, and Resolve. */
export function ConversationView({
  id,
  onBack,
}: {
  id: string;
  onBack: () => void;
  /** Shows or hides the customer beside the conversation (on screens too narrow for both). */
  onCustomer?: () => void;
}) {
  const conversation = useConversation(id);
  const messages = useMessages(id);
  const resolve = useResolve(id);
  const heading = useRef<HTMLHeadingElement>(null);
  const end = useRef<HTMLDivElement>(null);
  const count = messages.data?.length ?? 0;

  const loaded = conversation.data !== undefined;
  // opening a conversation moves the keyboard there once, as a new page would; a refresh from
  // the live feed must not pull focus out of the reply box (the view is keyed by conversation)
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);
  useEffect(() => {
    if (count > 0) end.current?.scrollIntoView({ block: "end" });
  }, [count]);

  if (conversation.isPending) return <Loader size="sm" aria-label={t.loading} />;
  if (conversation.isError) {
    return (
      <Alert color="red" title={t.loadFailed}>
        {conversation.error.message}
      </Alert>
    );
  }
  const c = conversation.data;
  const resolved = c.status === "resolved";
  return (
    <div className="conversation">
      <div className="conversation-head">
        <Button variant="subtle" color="dark" size="compact-sm" className="back" onClick={onBack}>
          ← {t.back}
        </Button>
        <Group justify="space-between" wrap="nowrap" gap="sm">
          <div className="head-title">
            <Title order={2} size="h4" ref={heading} tabIndex={-1}>
              {c.contactAddress ?? c.subject ?? t.conversationTitle(c.number)}
            </Title>
            <Text size="sm" className="muted">
              {t.channel(c.channel)} · {t.status(c.status)} · #{c.number}
            </Text>
          </div>
          {resolved ? (
            <Text fw={700} role="status" className="resolved">
              {t.resolved}
            </Text>
          ) : (
            <Button onClick={() => resolve.mutate()} loading={resolve.isPending} color="teal.9">
              {t.resolve}
            </Button>
          )}
        </Group>
        {resolve.isError ? (
          <Alert color="red" role="alert">
            {resolve.error.message}
          </Alert>
        ) : null}
      </div>
      <section className="messages" aria-label={t.messages}>
        {messages.isPending ? (
          <Loader size="sm" aria-label={t.loading} />
        ) : messages.isError ? (
          <Alert color="red">{t.loadFailed}</Alert>
        ) : messages.data.length === 0 ? (
          <Text>{t.noMessages}</Text>
        ) : (
          <ol className="message-list">
            {messages.data.map((m) => (
              <MessageItem key={m.id} message={m} />
            ))}
          </ol>
        )}
        <div ref={end} />
      </section>
      <Composer conversationId={id} />
    </div>
  );
}
