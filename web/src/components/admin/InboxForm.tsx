import { Button, Checkbox, NativeSelect, PasswordInput, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api.ts";
import { t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { checkInbox, INBOX_KINDS, type InboxKind, inboxBody, KIND_FIELDS } from "./inbox-kinds.ts";
import { ServerError } from "./parts.tsx";
import { type Inbox, Inbox as InboxSchema, TeamList } from "./schemas.ts";

function initialValues(kind: InboxKind): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const f of KIND_FIELDS[kind]) values[f.key] = f.type === "checkbox" ? false : (f.initial?.() ?? "");
  return values;
}

/** Creates an inbox of any kind with the settings the server checks; hands the new inbox on. */
export function InboxForm({ onCreated }: { onCreated: (inbox: Inbox) => void }) {
  const client = useQueryClient();
  const teams = useQuery({ queryKey: keys.admin("teams"), queryFn: () => api(TeamList, "/api/v1/teams") });
  const [kind, setKind] = useState<InboxKind>("sms");
  const [name, setName] = useState("");
  const [assignment, setAssignment] = useState("manual");
  const [teamId, setTeamId] = useState("");
  const [values, setValues] = useState(() => initialValues("sms"));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: unknown) => api(InboxSchema, "/api/v1/inboxes", { method: "POST", body }),
    onSuccess: (inbox) => {
      void client.invalidateQueries({ queryKey: keys.admin("inboxes") });
      void client.invalidateQueries({ queryKey: keys.directory("inboxes") });
      setName("");
      setValues(initialValues(kind));
      onCreated(inbox);
    },
  });
  const set = (key: string, v: string | boolean) => setValues((old) => ({ ...old, [key]: v }));

  return (
    <form
      className="admin-form"
      aria-labelledby="new-inbox-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const found = checkInbox(kind, name, values);
        setErrors(found);
        if (Object.keys(found).length > 0) return;
        create.mutate(inboxBody(kind, { name, assignment, teamId }, values));
      }}
    >
      <h3 id="new-inbox-title">{a.inboxes.create}</h3>
      <NativeSelect
        label={a.inboxes.kind}
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
            description={field.hint?.()}
            required={field.required}
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
          {a.inboxes.createButton}
        </Button>
      </div>
      {create.isPending ? <span className="visually-hidden">{t.loading}</span> : null}
    </form>
  );
}
