import { Alert, Button, Group, TextInput } from "@mantine/core";
import { type ReactNode, useId, useState } from "react";
import { ApiError } from "../../api.ts";
import { t } from "../../i18n.ts";
import { a } from "../../strings/admin.ts";
import { Busy } from "../Busy.tsx";

/** The server's refusal as it said it: its message, and the stable code to search for. */
export function ServerError({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <Alert color="red" role="alert" className="admin-error">
      {message}
      {code ? <span className="admin-code"> ({code})</span> : null}
    </Alert>
  );
}

/** A list's loading, failure, or empty state; the list itself otherwise. */
export function ListState({
  query,
  empty,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: unknown };
  empty: boolean;
  children: ReactNode;
}) {
  if (query.isPending) return <Busy label={t.loading} />;
  if (query.isError) return <ServerError error={query.error} />;
  if (empty) return <p className="muted">{a.empty}</p>;
  return <>{children}</>;
}

/** Copies text to the clipboard; says so for a moment. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="compact-sm"
      variant="default"
      aria-label={`${a.copy}: ${label}`}
      onClick={() => {
        void navigator.clipboard
          ?.writeText(value)
          .then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          })
          .catch(() => undefined);
      }}
    >
      {copied ? a.copied : a.copy}
    </Button>
  );
}

/** A value to paste elsewhere (a webhook URL, a secret), read-only, with a copy button. */
export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="copy-field">
      <TextInput
        label={label}
        description={hint}
        value={value}
        readOnly
        onFocus={(e) => e.currentTarget.select()}
        className="copy-input"
      />
      <CopyButton value={value} label={label} />
    </div>
  );
}

/** A destructive action that asks once more before it acts. */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  pending,
  color = "red",
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  pending?: boolean;
  color?: string;
}) {
  const [asking, setAsking] = useState(false);
  const id = useId();
  if (!asking) {
    return (
      <Button
        size="compact-sm"
        variant="outline"
        color={color}
        onClick={() => setAsking(true)}
        loading={pending}
      >
        {label}
      </Button>
    );
  }
  return (
    <Group gap="xs" role="group" aria-labelledby={id} className="confirm">
      <span id={id} className="confirm-question">
        {question}
      </span>
      <Button
        size="compact-sm"
        color={color}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {a.confirmYes(label)}
      </Button>
      <Button size="compact-sm" variant="default" onClick={() => setAsking(false)}>
        {a.cancel}
      </Button>
    </Group>
  );
}

/** A settings section: its heading, a line saying what it is for, its content. */
export function Section({ title, intro, children }: { title: string; intro: string; children: ReactNode }) {
  return (
    <section className="admin-section" aria-labelledby="admin-section-title">
      <h2 id="admin-section-title">{title}</h2>
      <p className="muted">{intro}</p>
      {children}
    </section>
  );
}

/** A table that becomes labelled cards on a phone: each cell carries its column's name. */
export function Table({
  caption,
  columns,
  children,
}: {
  caption: string;
  columns: string[];
  children: ReactNode;
}) {
  return (
    <table className="admin-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** One cell, labelled for the phone layout. */
export function Cell({ label, children }: { label: string; children: ReactNode }) {
  return <td data-label={label}>{children}</td>;
}
