import { TagsInput, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import type { Conversation, Message } from "../../api.ts";
import { tc } from "../../strings/conversation.ts";
import { EmailMeta, read } from "../message/metadata.ts";

// what a browser's own <input type=email> accepts, near enough: one @, no spaces, a dot after it
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/**
 * The subject a reply goes out with when the agent leaves the field empty: the server's own
 * default, in the words the customer receives.
 */
export function defaultSubject(c: Conversation): string {
  return c.subject ? `Re: ${c.subject.replace(/^(re:\s*)+/i, "")}` : `Your conversation #${c.number}`;
}

/**
 * Who a reply copies unless the agent changes it: the people the customer's latest email was
 * also written to, as "reply all" keeps them.
 */
export function defaultCc(messages: readonly Message[] | undefined): string[] {
  const inbound = (messages ?? []).filter((m) => m.direction === "inbound");
  const last = inbound.reduce<Message | undefined>(
    (a, m) => (a === undefined || m.createdAt >= a.createdAt ? m : a),
    undefined,
  );
  return last ? (read(EmailMeta, last)?.cc ?? []) : [];
}

/** An email reply's recipient, subject and copies (Cc), each a field the agent can change. */
export function EmailFields({
  c,
  subject,
  onSubject,
  cc,
  onCc,
}: {
  c: Conversation;
  subject: string;
  onSubject: (s: string) => void;
  cc: string[];
  onCc: (cc: string[]) => void;
}) {
  const [refused, setRefused] = useState<string | null>(null);
  return (
    <div className="email-fields">
      {c.contactAddress ? (
        <Text size="sm" className="channel-hint">
          {tc.emailTo(c.contactAddress)}
        </Text>
      ) : null}
      <TextInput
        size="xs"
        label={tc.subjectLabel}
        value={subject}
        placeholder={defaultSubject(c)}
        maxLength={250}
        onChange={(e) => onSubject(e.currentTarget.value.replace(/[\r\n]+/g, " "))}
      />
      <TagsInput
        size="xs"
        label={tc.ccLabel}
        placeholder={cc.length === 0 ? tc.ccPlaceholder : undefined}
        value={cc}
        maxTags={20}
        splitChars={[",", ";", " "]}
        acceptValueOnBlur
        clearable
        onChange={(next) => {
          const typed = next.map((a) => a.trim().toLowerCase());
          const bad = typed.find((a) => !EMAIL.test(a));
          setRefused(bad === undefined ? null : tc.ccInvalid(bad));
          onCc([...new Set(typed.filter((a) => EMAIL.test(a) && a !== c.contactAddress?.toLowerCase()))]);
        }}
        error={refused}
      />
    </div>
  );
}
