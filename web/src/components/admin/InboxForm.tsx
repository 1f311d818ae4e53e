import { Button, Checkbox, NativeSelect, PasswordInput, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api.ts";
import { t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import {
  checkInbox,
  INBOX_KINDS,
  type InboxKind,
  inboxBody,
  inboxPatch,
  inboxValues,
  KIND_FIELDS,
} from "./inbox-kinds.ts";
import { ServerError } from "./parts.tsx";
import { type Inbox, Inbox as InboxSchema, TeamList } from "./schemas.ts";

function initialValues(kind: InboxKind): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const f of KIND_FIELDS[kind]) values[f.key] = f.type === "checkbox" ? false : (f.initial?.() ?? "");
  return values;
}

const kindOf = (k: string): InboxKind => INBOX_KINDS.find((x) => x === k) ?? "sms";

/**
 * Creates an inbox of any kind with the settings the server checks, or changes one (`inbox`):
 * its kind stays, its secrets are kept unless typed again. Hands the inbox on when saved.
 */
export function InboxForm({
  inbox,
  onSaved,
}: {
  inbox?: Inbox | undefined;
  onSaved: (inbox: Inbox) => void;
}) {
  const client = useQueryClient();
  const editing = inbox !== undefined;
  const teams = useQuery({ queryKey: keys.admin("teams"), queryFn: () => api(TeamList, "/api/v1/teams") });
  const [kind, setKind] = useState<InboxKind>(inbox ? kindOf(inbox.kind) : "sms");
  const [name, setName] = useState(inbox?.name ?? "");
  const [assignment, setAssignment] = useState(inbox?.assignment ?? "manual");
  const [teamId, setTeamId] = useState(inbox?.teamId ?? "");
  const [values, setValues] = useState(() =>
    inbox ? inboxValues(kindOf(inbox.kind), inbox) : initialValues("sms"),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: unknown) =>
      inbox
        ? api(InboxSchema, `/api/v1/inboxes/${encodeURIComponent(inbox.id)}`, { method: "PATCH", body })
        : api(InboxSchema, "/api/v1/inboxes", { method: "POST", body }),
    onSuccess: (saved) => {
      void client.invalidateQueries({ queryKey: keys.admin("inboxes") });
      void client.invalidateQueries({ queryKey: keys.directory("inboxes") });
      if (!editing) {
        setName("");
        setValues(initialValues(kind));
      }
      onSaved(saved);
    },
  });
  const titleId = editing ? "edit-inbox-title" : "new-inbox-title";
  const set = (key: string, v: string | boolean) => setValues((old) => ({ ...old, [key]: v }));

  return (
    <form
      className="admin-form"
      aria-labelledby={titleId}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const found = checkInbox(kind, name, values, { keepSecrets: editing });
        setErrors(found);
        if (Object.keys(found).length > 0) return;
        const common = { name, assignment, teamId };
        create.mutate(editing ? inboxPatch(kind, common, values) : inboxBody(kind, common, values));
      }}
    >
      <h3 id={titleId}>{inbox ? a.inboxes.editTitle(inbox.name) : a.inboxes.create}</h3>
      <NativeSelect
        label={a.inboxes.kind}
        disabled={editing}
        value={kind}
        onChange={(e) => {
          const next = INBOX_KINDS.find((k) => k === e.currentTarget.value) ?? "sms";
          setKind(next);
          setValues(initialValues(next));
          setErrors({});
          create.reset();
        }}
        data={INBOX_KINDS.map((k) => ({ value: k, label: a.kinds[k] ?? k }))}
      />
      <p className="muted">{a.kindHelp[kind]}</p>
      <TextInput
        label={a.inboxes.name}
        required
        value={name}
        error={errors.name}
        onChange={(e) => setName(e.currentTarget.value)}
      />
      {KIND_FIELDS[kind].map((field) => {
        const v = values[field.key];
        if (field.type === "checkbox") {
          return (
            <Checkbox
              key={field.key}
              label={field.label()}
              description={field.hint?.()}
              checked={v === true}
              onChange={(e) => set(field.key, e.currentTarget.checked)}
            />
          );
        }
        const Input = field.secret ? PasswordInput : TextInput;
        return (
          <Input
            key={field.key}
            label={field.label()}
            description={editing && field.secret ? a.inboxes.keepSecret : field.hint?.()}
            required={field.required && !(editing && field.secret)}
            value={typeof v === "string" ? v : ""}
            error={errors[field.key]}
            autoComplete="off"
            onChange={(e) => set(field.key, e.currentTarget.value)}
          />
        );
      })}
      <NativeSelect
        label={a.inboxes.assignment}
        value={assignment}
        onChange={(e) => setAssignment(e.currentTarget.value)}
        data={["manual", "round_robin", "least_loaded"].map((v) => ({
          value: v,
          label: a.assignments[v] ?? v,
        }))}
      />
      <NativeSelect
        label={a.inboxes.team}
        value={teamId}
        onChange={(e) => setTeamId(e.currentTarget.value)}
        data={[
          { value: "", label: a.inboxes.noTeam },
          ...(teams.data?.data ?? []).map((team) => ({ value: team.id, label: team.name })),
        ]}
      />
      <ServerError error={create.error} />
      <div>
        <Button type="submit" loading={create.isPending}>
          {editing ? a.save : a.inboxes.createButton}
        </Button>
      </div>
      {create.isPending ? <span className="visually-hidden">{t.loading}</span> : null}
    </form>
  );
}
