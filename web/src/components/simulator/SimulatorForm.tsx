import { Alert, Button, NativeSelect, Switch, Textarea, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, MessagePage } from "../../api.ts";
import { keys } from "../../queries.ts";
import { followLink, pathFor } from "../../route.ts";
import { s } from "../../strings/simulator.ts";
import { ServerError } from "../admin/parts.tsx";
import {
  addressKind,
  addressProblem,
  type SimInbox,
  SimSent,
  sampleAddress,
  supportsOf,
} from "./channels.ts";
import { appendLog, type SentEntry } from "./log.ts";

type Props = { inboxes: SimInbox[]; log: SentEntry[]; onSent: (log: SentEntry[]) => void };

/** The customer's side: which inbox, who writes, what; Send goes through the inbound path. */
export function SimulatorForm({ inboxes, log, onSent }: Props) {
  const client = useQueryClient();
  const [inboxId, setInboxId] = useState(inboxes[0]?.id ?? "");
  const inbox = inboxes.find((i) => i.id === inboxId) ?? inboxes[0];
  const kind = inbox?.kind ?? "sms";
  const ak = addressKind(inbox ?? { kind });
  const supports = supportsOf(inbox);
  const [address, setAddress] = useState(() => sampleAddress(ak));
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [subject, setSubject] = useState("");
  const [sameThread, setSameThread] = useState(false);
  const [onPost, setOnPost] = useState(false);
  const [postId, setPostId] = useState("");
  const [mention, setMention] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // the email this address sent last on this inbox: what "reply in the same thread" answers
  const previous = log.find((e) => e.inboxId === inbox?.id && e.from === address.trim());
  const send = useMutation({
    mutationFn: async (body: Record<string, unknown>) => {
      // a reply answers the thread's newest email, by its Message-ID, as a mail client does
      const thread =
        supports.inReplyTo && sameThread && previous
          ? await lastMessageId(previous.conversationId)
          : undefined;
      return api(SimSent, "/api/v1/simulator/messages", {
        method: "POST",
        body: thread ? { ...body, inReplyTo: thread } : body,
      });
    },
    onSuccess: (sent, body) => {
      const entry: SentEntry = {
        at: new Date().toISOString(),
        inboxId: inbox?.id ?? "",
        inboxName: inbox?.name ?? "",
        kind,
        from: address.trim(),
        text: String(body.text),
        ...(typeof body.subject === "string" ? { subject: body.subject } : {}),
        conversationId: sent.conversationId,
        messageId: sent.messageId,
      };
      onSent(appendLog(entry));
      setText("");
      void client.invalidateQueries({ queryKey: keys.conversations });
    },
  });

  const submit = () => {
    const found: Record<string, string> = {};
    const problem = addressProblem(ak, address.trim());
    if (address.trim() === "") found.address = s.problems.required;
    else if (problem) found.address = s.problems[problem];
    if (text.trim() === "") found.text = s.problems.required;
    if (supports.postId && onPost && !/^[0-9_]{1,64}$/.test(postId.trim())) found.postId = s.problems.postId;
    setErrors(found);
    if (Object.keys(found).length > 0 || !inbox) return;
    send.mutate({
      inboxId: inbox.id,
      from: { address: address.trim(), ...(name.trim() ? { name: name.trim() } : {}) },
      text: text.trim(),
      ...(supports.subject && subject.trim() ? { subject: subject.trim() } : {}),
      ...(supports.postId && onPost ? { postId: postId.trim() } : {}),
      ...(supports.mention && mention ? { mention: true } : {}),
    });
  };

  return (
    <form
      className="sim-form"
      aria-label={s.send}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <NativeSelect
        label={s.inbox}
        value={inbox?.id ?? ""}
        onChange={(e) => {
          const next = inboxes.find((i) => i.id === e.currentTarget.value);
          setInboxId(e.currentTarget.value);
          if (next && addressKind(next) !== ak) setAddress(sampleAddress(addressKind(next)));
          setErrors({});
          send.reset();
        }}
        data={inboxes.map((i) => ({ value: i.id, label: `${i.name}${i.address ? ` (${i.address})` : ""}` }))}
      />
      <p className="muted" data-sim-how>
        {s.how[kind] ?? ""}
      </p>
      <div className="sim-address">
        <TextInput
          label={s.address[ak]}
          description={
            inbox?.example ? `${s.addressHint[ak]} ${s.example(inbox.example)}` : s.addressHint[ak]
          }
          required
          value={address}
          error={errors.address}
          onChange={(e) => setAddress(e.currentTarget.value)}
        />
        <Button variant="default" onClick={() => setAddress(sampleAddress(ak))}>
          {s.newCustomer}
        </Button>
      </div>
      <TextInput label={s.name} value={name} onChange={(e) => setName(e.currentTarget.value)} />
      {supports.subject || supports.inReplyTo ? (
        <>
          <TextInput label={s.subject} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} />
          <Switch
            label={s.sameThread}
            description={s.sameThreadHint}
            checked={sameThread}
            disabled={!previous}
            onChange={(e) => {
              setSameThread(e.currentTarget.checked);
              // a reply's subject is the thread's, with "Re:" once
              if (e.currentTarget.checked && previous?.subject) {
                setSubject(`Re: ${previous.subject.replace(/^re:\s*/i, "")}`);
              }
            }}
          />
        </>
      ) : null}
      {supports.mention ? (
        <Switch label={s.mention} checked={mention} onChange={(e) => setMention(e.currentTarget.checked)} />
      ) : null}
      {supports.postId ? (
        <>
          <Switch label={s.onPost} checked={onPost} onChange={(e) => setOnPost(e.currentTarget.checked)} />
          {onPost ? (
            <TextInput
              label={s.postId}
              description={s.postIdHint}
              required
              value={postId}
              error={errors.postId}
              onChange={(e) => setPostId(e.currentTarget.value)}
            />
          ) : null}
        </>
      ) : null}
      <Textarea
        label={s.text}
        required
        autosize
        minRows={3}
        value={text}
        error={errors.text}
        onChange={(e) => setText(e.currentTarget.value)}
      />
      <ServerError error={send.error} />
      <div>
        <Button type="submit" loading={send.isPending}>
          {s.send}
        </Button>
      </div>
      {send.data ? (
        <Alert color="green" role="status">
          {s.sent}{" "}
          <a
            href={pathFor({ page: "inbox", conversationId: send.data.conversationId })}
            onClick={(e) => followLink(e, { page: "inbox", conversationId: send.data.conversationId })}
          >
            {s.open}
          </a>
        </Alert>
      ) : null}
    </form>
  );
}

/** The newest email Message-ID of a conversation: what a reply in the same thread answers. */
async function lastMessageId(conversationId: string): Promise<string | undefined> {
  const page = await api(
    MessagePage,
    `/api/v1/conversations/${encodeURIComponent(conversationId)}/messages?limit=200`,
  );
  for (const m of [...page.data].reverse()) {
    const id = m.metadata?.messageId;
    if (typeof id === "string" && /^<[^<>\s]+>$/.test(id)) return id;
  }
  return undefined;
}
