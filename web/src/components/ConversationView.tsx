import { Alert, Button, Text } from "@mantine/core";
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useChangeConversation } from "../conversation-queries.ts";
import { t } from "../i18n.ts";
import { useConversation, useMe, useMessages } from "../queries.ts";
import { isTypingTarget, useShortcuts } from "../shortcuts.ts";
import { tc } from "../strings/conversation.ts";
import { ConversationHeader } from "./actions/ConversationHeader.tsx";
import type { Panel } from "./actions/panels.ts";
import { SnoozeDialog } from "./actions/SnoozeDialog.tsx";
import { Busy } from "./Busy.tsx";
import { Composer, type ComposerControl } from "./Composer.tsx";
import { MessageItem } from "./MessageItem.tsx";
import { PostCard } from "./message/PostCard.tsx";
import { TypingIndicator } from "./message/TypingIndicator.tsx";

// dialogs load when first opened: the conversation shows without them
const MergeDialog = lazy(() => import("./actions/MergeDialog.tsx").then((m) => ({ default: m.MergeDialog })));
const ShortcutsDialog = lazy(() =>
  import("./ShortcutsDialog.tsx").then((m) => ({ default: m.ShortcutsDialog })),
);

/** One conversation as its channel shows it: its header and actions, the messages, the reply box. */
export function ConversationView({
  id,
  onBack,
  onCustomer,
}: {
  id: string;
  onBack: () => void;
  /** Shows or hides the customer beside the conversation (on screens too narrow for both). */
  onCustomer?: () => void;
}) {
  const conversation = useConversation(id);
  const messages = useMessages(id);
  const me = useMe();
  const change = useChangeConversation(id);
  const [panel, setPanel] = useState<Panel>(null);
  // a dialog stays mounted once opened, so it can close with its animation
  const [seen, setSeen] = useState<Set<Panel>>(new Set());
  const heading = useRef<HTMLHeadingElement>(null);
  const end = useRef<HTMLDivElement>(null);
  const composer = useRef<ComposerControl | null>(null);
  // the newest message: a new one scrolls the history to its end, earlier ones loaded do not
  const newest = messages.data?.at(-1)?.id;
  const meId = me.data?.user.id;

  // a menu closing after one of its items opened a dialog must not close the dialog
  const openPanel = (p: Panel, closing?: Panel) => {
    if (p === null && closing) return setPanel((cur) => (cur === closing ? null : cur));
    setPanel(p);
    if (p) setSeen((s) => (s.has(p) ? s : new Set(s).add(p)));
  };
  const c = conversation.data;
  const live = c !== undefined && !c.mergedIntoId;
  useShortcuts({
    help: () => openPanel("help"),
    reply: () => composer.current?.focus("reply"),
    note: () => composer.current?.focus("note"),
    resolve: () => live && c.status !== "resolved" && change.mutate({ status: "resolved" }),
    snooze: () => live && openPanel("snooze"),
    assignMe: () => live && meId && c.assigneeId !== meId && change.mutate({ assigneeId: meId }),
    labels: () => live && openPanel("labels"),
    priority: () => live && openPanel("priority"),
    merge: () => live && openPanel("merge"),
    escape: (e) => {
      if (panel) return setPanel(null);
      if (isTypingTarget(e.target) && e.target instanceof HTMLElement) return e.target.blur();
      onBack();
    },
  });

  const loaded = c !== undefined;
  // opening a conversation moves the keyboard there once, as a new page would; a refresh from
  // the live feed must not pull focus out of the reply box (the view is keyed by conversation)
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);
  useEffect(() => {
    if (newest) end.current?.scrollIntoView({ block: "end" });
  }, [newest]);

  if (conversation.isPending) return <Busy label={t.loading} />;
  if (conversation.isError) {
    return (
      <Alert color="red" title={t.loadFailed}>
        {conversation.error.message}
      </Alert>
    );
  }
  const data = conversation.data;
  const lastInbound = [...(messages.data ?? [])]
    .reverse()
    .find((m) => m.direction === "inbound" && m.kind === "message");
  const replyTo = lastInbound?.metadata?.replyTo;
  const publicThread =
    typeof replyTo === "object" &&
    replyTo !== null &&
    "kind" in replyTo &&
    (replyTo.kind === "comment" || replyTo.kind === "post");
  return (
    <div className="conversation">
      <ConversationHeader
        c={data}
        meId={meId}
        change={(patch) => change.mutate(patch)}
        pending={change.isPending}
        error={change.isError ? change.error.message : null}
        panel={panel}
        onPanel={openPanel}
        onBack={onBack}
        onCustomer={onCustomer}
        heading={heading}
      />
      {data.post ? <PostCard key={data.post.id} post={data.post} channel={data.channel} /> : null}
      {/* focusable, so a keyboard can scroll the history when it holds no link or button */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take the keyboard (WCAG 2.1.1) */}
      <section className="messages" aria-label={t.messages} tabIndex={0}>
        {messages.isPending ? (
          <Busy label={t.loading} />
        ) : messages.isError ? (
          <Alert color="red">{t.loadFailed}</Alert>
        ) : messages.data.length === 0 ? (
          <Text>{t.noMessages}</Text>
        ) : (
          <>
            {messages.hasNextPage ? (
              <Button
                variant="subtle"
                size="compact-sm"
                className="load-earlier"
                loading={messages.isFetchingNextPage}
                onClick={() => void messages.fetchNextPage()}
              >
                {tc.loadEarlier}
              </Button>
            ) : null}
            <ol className="message-list">
              {messages.data.map((m) => (
                <MessageItem key={m.id} message={m} conversation={data} />
              ))}
            </ol>
          </>
        )}
        <div ref={end} />
      </section>
      <TypingIndicator conversationId={id} />
      {data.mergedIntoId ? null : (
        <Composer conversation={data} publicThread={publicThread} control={composer} />
      )}
      <SnoozeDialog
        opened={panel === "snoozeCustom"}
        onClose={() => setPanel(null)}
        onSnooze={(until) => change.mutate({ status: "snoozed", snoozedUntil: until.toISOString() })}
      />
      <Suspense fallback={null}>
        {seen.has("merge") ? (
          <MergeDialog c={data} opened={panel === "merge"} onClose={() => setPanel(null)} />
        ) : null}
        {seen.has("help") ? (
          <ShortcutsDialog opened={panel === "help"} onClose={() => setPanel(null)} />
        ) : null}
      </Suspense>
    </div>
  );
}
