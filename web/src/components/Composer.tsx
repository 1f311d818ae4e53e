import { Alert, Button, Textarea } from "@mantine/core";
import { type FormEvent, useId, useRef, useState } from "react";
import { t } from "../i18n.ts";
import { newClientId, useReply } from "../queries.ts";

/** The reply box: sends on the conversation's own channel; Ctrl/⌘+Enter sends too. */
export function Composer({ conversationId }: { conversationId: string }) {
  const [text, setText] = useState("");
  // one id per reply written: sending again after an error cannot send it twice
  const clientId = useRef(newClientId());
  const reply = useReply(conversationId);
  const fieldId = useId();

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body || reply.isPending) return;
    reply.mutate(
      { text: body, clientId: clientId.current },
      {
        onSuccess: () => {
          setText("");
          clientId.current = newClientId();
        },
      },
    );
  };

  return (
    <form className="composer" onSubmit={submit}>
      <Textarea
        id={fieldId}
        label={t.replyLabel}
        placeholder={t.replyPlaceholder}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
        }}
        rows={3}
      />
      {reply.isError ? (
        <Alert color="red" role="alert">
          {t.sendFailed(reply.error.message)}
        </Alert>
      ) : null}
      <Button type="submit" loading={reply.isPending} disabled={text.trim() === ""}>
        {t.send}
      </Button>
    </form>
  );
}
