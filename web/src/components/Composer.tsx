import { Alert, Group, SegmentedControl, Textarea } from "@mantine/core";
import { type FormEvent, type RefObject, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import { ApiError, type Conversation } from "../api.ts";
import { renderCanned, useReply } from "../conversation-queries.ts";
import { t } from "../i18n.ts";
import { newClientId, useMessages } from "../queries.ts";
import { tc } from "../strings/conversation.ts";
import { AttachmentChips } from "./composer/AttachmentChips.tsx";
import { ChannelHints, VisibilityChoice, xLimit } from "./composer/ChannelHints.tsx";
import { ComposerToolbar } from "./composer/ComposerToolbar.tsx";
import { clearDraft, loadDraft, saveDraft } from "./composer/drafts.ts";
import { defaultCc, defaultSubject, EmailFields } from "./composer/EmailFields.tsx";
import { type Suggestion, Suggestions } from "./composer/Suggestions.tsx";
import { xLength } from "./composer/sms-segments.ts";
import { mentionToken, replaceRange } from "./composer/text-edit.ts";
import { useSuggestions } from "./composer/use-suggestions.ts";
import { useUploads } from "./composer/use-uploads.ts";
import "./composer/composer.css";

/** What the page asks of the reply box (the r and n shortcuts). */
export type ComposerControl = { focus: (mode: "reply" | "note") => void };

/** Why a send failed, in words the agent can act on. */
function sendError(err: Error): string {
  if (err instanceof ApiError) return t.sendFailed(err.message);
  return typeof navigator !== "undefined" && !navigator.onLine ? tc.offline : t.sendFailed(err.message);
}

/**
 * The reply box, fitted to the channel: a reply or a private note (with @mentions), canned
 * responses (`/`), emoji, attachments; Ctrl/⌘+Enter sends, with Shift it sends and resolves.
 * The draft is kept on this device until it is sent.
 */
export function Composer({
  conversation: c,
  publicThread,
  control,
}: {
  conversation: Conversation;
  publicThread: boolean;
  control: RefObject<ComposerControl | null>;
}) {
  const [draft] = useState(() => loadDraft(c.id));
  const [text, setText] = useState(draft?.text ?? "");
  const [mode, setMode] = useState(draft?.mode ?? "reply");
  const [visibility, setVisibility] = useState(draft?.visibility ?? "public");
  // one id per reply written: sending again after an error (or a reload) cannot send it twice
  const clientId = useRef(draft?.clientId ?? newClientId());
  const uploads = useUploads(draft?.attachments ?? []);
  // an email's subject and copies: the defaults (Re: …, the customer's other recipients) until changed
  const [subject, setSubject] = useState(draft?.subject ?? (c.subject ? defaultSubject(c) : ""));
  const [ccEdited, setCcEdited] = useState<string[] | undefined>(draft?.cc);
  const messages = useMessages(c.id);
  const email = c.channel === "email";
  const cc = ccEdited ?? (email ? defaultCc(messages.data) : []);
  const [caret, setCaret] = useState(text.length);
  const [dragging, setDragging] = useState(false);
  const [insertError, setInsertError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const nextCaret = useRef<number | null>(null);
  const reply = useReply(c.id);
  const note = mode === "note";
  const suggest = useSuggestions(text, caret, note);
  const ids = { field: useId(), hint: useId(), list: useId() };

  control.current = {
    focus: (m) => {
      setMode(m);
      box.current?.focus();
    },
  };
  useEffect(() => {
    saveDraft(c.id, {
      text,
      mode,
      visibility,
      clientId: clientId.current,
      attachments: uploads.done,
      ...(email ? { subject } : {}),
      ...(ccEdited ? { cc: ccEdited } : {}),
    });
  }, [c.id, text, mode, visibility, uploads.done, email, subject, ccEdited]);
  useLayoutEffect(() => {
    if (nextCaret.current === null || !box.current) return;
    box.current.focus();
    box.current.setSelectionRange(nextCaret.current, nextCaret.current);
    nextCaret.current = null;
  });

  const edit = (next: { text: string; caret: number }) => {
    setText(next.text);
    setCaret(next.caret);
    nextCaret.current = next.caret;
  };
  const insertAtCaret = (insert: string) => {
    const el = box.current;
    edit(replaceRange(text, el?.selectionStart ?? text.length, el?.selectionEnd ?? text.length, insert));
  };
  const insertCanned = async (id: string, range?: { start: number; end: number }) => {
    setInsertError(null);
    try {
      const rendered = await renderCanned(id, c.id);
      const el = box.current;
      const start = range?.start ?? el?.selectionStart ?? text.length;
      edit(replaceRange(text, start, range?.end ?? el?.selectionEnd ?? start, rendered));
    } catch (err) {
      setInsertError(tc.cannedFailed(err instanceof Error ? err.message : String(err)));
    }
  };
  const pick = (item: Suggestion) => {
    const tr = suggest.trigger;
    if (!tr) return;
    suggest.reset();
    if (tr.kind === "canned") void insertCanned(item.id, tr);
    else edit(replaceRange(text, tr.start, tr.end, mentionToken(item.label, item.id)));
  };

  const limit = c.channel === "x" && !note ? xLimit(visibility, publicThread) : undefined;
  const over = limit !== undefined && xLength(text) > limit;
  const body = text.trim();
  const blocked = body === "" || uploads.busy || over || reply.isPending;
  const submit = (resolve: boolean, e?: FormEvent) => {
    e?.preventDefault();
    if (blocked) return;
    const ownSubject = subject.trim();
    reply.mutate(
      {
        text: body,
        clientId: clientId.current,
        ...(note ? { private: true } : publicThread ? { visibility } : {}),
        ...(uploads.done.length > 0 ? { attachments: uploads.done.map((a) => ({ key: a.key })) } : {}),
        ...(email && !note && ownSubject !== "" && ownSubject !== defaultSubject(c)
          ? { subject: ownSubject }
          : {}),
        ...(email && !note && cc.length > 0 ? { cc } : {}),
        resolve: resolve && !note,
      },
      {
        onSuccess: () => {
          setText("");
          uploads.reset();
          setSubject(c.subject ? defaultSubject(c) : "");
          setCcEdited(undefined);
          clientId.current = newClientId();
          clearDraft(c.id);
        },
      },
    );
  };

  const listOpen = suggest.trigger !== undefined;
  return (
    <form
      className="composer"
      data-mode={mode}
      data-dragging={dragging}
      onSubmit={(e) => submit(false, e)}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        if (e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        setDragging(false);
        uploads.add(e.dataTransfer.files);
      }}
    >
      <Group justify="space-between" gap="xs" wrap="wrap">
        <SegmentedControl
          size="xs"
          aria-label={tc.mode}
          value={mode}
          onChange={(v) => setMode(v === "note" ? "note" : "reply")}
          data={[
            { value: "reply", label: tc.modeReply },
            { value: "note", label: tc.modeNote },
          ]}
        />
        {publicThread && !note ? <VisibilityChoice value={visibility} onChange={setVisibility} /> : null}
      </Group>
      {email && !note ? (
        <EmailFields c={c} subject={subject} onSubject={setSubject} cc={cc} onCc={setCcEdited} />
      ) : null}
      <ChannelHints
        c={c}
        text={text}
        note={note}
        visibility={visibility}
        publicThread={publicThread}
        id={ids.hint}
      />
      <Textarea
        id={ids.field}
        ref={box}
        label={note ? tc.noteLabel : t.replyLabel}
        placeholder={note ? tc.notePlaceholder : t.replyPlaceholder}
        value={text}
        aria-describedby={c.channel === "sms" || c.channel === "x" ? ids.hint : undefined}
        aria-autocomplete="list"
        aria-controls={listOpen ? ids.list : undefined}
        aria-activedescendant={
          listOpen && suggest.items.length > 0 ? `${ids.list}-${suggest.active}` : undefined
        }
        onChange={(e) => {
          setText(e.currentTarget.value);
          setCaret(e.currentTarget.selectionStart);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={(e) => {
          if (listOpen && suggest.items.length > 0 && !e.ctrlKey && !e.metaKey) {
            if (e.key === "ArrowDown" || e.key === "ArrowUp") {
              e.preventDefault();
              return suggest.move(e.key === "ArrowDown" ? 1 : -1);
            }
            const item = suggest.items[suggest.active];
            if ((e.key === "Enter" || e.key === "Tab") && item) {
              e.preventDefault();
              return pick(item);
            }
          }
          if (listOpen && e.key === "Escape") {
            e.preventDefault();
            return suggest.dismiss();
          }
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            submit(e.shiftKey);
          }
        }}
        autosize
        minRows={3}
        maxRows={12}
        data-note={note}
      />
      {listOpen ? (
        <Suggestions
          id={ids.list}
          label={suggest.trigger?.kind === "canned" ? tc.cannedList : tc.mentionList}
          items={suggest.items}
          active={suggest.active}
          empty={tc.cannedNone}
          onPick={pick}
        />
      ) : null}
      <AttachmentChips uploads={uploads.uploads} onRemove={uploads.remove} />
      {insertError ? (
        <Alert color="red" role="alert">
          {insertError}
        </Alert>
      ) : null}
      {reply.isError ? (
        <Alert color="red" role="alert">
          {sendError(reply.error)}
        </Alert>
      ) : null}
      <ComposerToolbar
        note={note}
        blocked={blocked}
        pending={reply.isPending}
        onCanned={(id) => void insertCanned(id)}
        onEmoji={insertAtCaret}
        onFiles={uploads.add}
        onSendResolve={() => submit(true)}
      />
    </form>
  );
}
