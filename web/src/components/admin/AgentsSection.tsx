import { Button, NativeSelect, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as z from "zod/mini";
import { api, type Me } from "../../api.ts";
import { formatDateTime } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ConfirmButton, CopyField, ListState, Section, ServerError, Table } from "./parts.tsx";
import { Invited, User, UserList } from "./schemas.ts";

const ROLES = ["agent", "admin", "owner"] as const;
type Role = (typeof ROLES)[number];
const Updated = z.object({ user: User });

/** The workspace's people: invite with a role, change roles, disable and re-enable. */
export function AgentsSection({ me }: { me: Me }) {
  const client = useQueryClient();
  const users = useQuery({ queryKey: keys.admin("agents"), queryFn: () => api(UserList, "/api/v1/users") });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: keys.admin("agents") });
    void client.invalidateQueries({ queryKey: keys.directory("agents") });
  };
  const update = useMutation({
    mutationFn: (v: { id: string; body: { role?: string; disabled?: boolean } }) =>
      api(Updated, `/api/v1/users/${encodeURIComponent(v.id)}`, { method: "PATCH", body: v.body }),
    onSuccess: refresh,
  });
  const list = users.data?.users ?? [];
  const c = a.agents.columns;
  // only owners make owners (the server says so too)
  const roles: readonly Role[] = me.user.role === "owner" ? ROLES : ROLES.filter((r) => r !== "owner");
  return (
    <Section title={a.sections.agents} intro={a.agents.intro}>
      <ListState query={users} empty={list.length === 0}>
        <Table caption={a.sections.agents} columns={[c.name, c.email, c.role, c.status, c.actions]}>
          {list.map((u) => (
            <tr key={u.id} data-user-email={u.email}>
              <Cell label={c.name}>{u.name || "—"}</Cell>
              <Cell label={c.email}>{u.email}</Cell>
              <Cell label={c.role}>
                <NativeSelect
                  size="xs"
                  aria-label={a.agents.roleOf(u.email)}
                  value={u.role}
                  disabled={u.id === me.user.id || update.isPending}
                  onChange={(e) => update.mutate({ id: u.id, body: { role: e.currentTarget.value } })}
                  data={(roles.includes(u.role) ? roles : ROLES).map((r) => ({
                    value: r,
                    label: a.roles[r],
                  }))}
                />
              </Cell>
              <Cell label={c.status}>
                {a.statuses[u.status]}
                {u.lastSignInAt ? <span className="muted"> · {formatDateTime(u.lastSignInAt)}</span> : null}
              </Cell>
              <Cell label={c.actions}>
                {u.id === me.user.id ? (
                  a.agents.you
                ) : u.status === "disabled" ? (
                  <Button
                    size="compact-sm"
                    variant="outline"
                    onClick={() => update.mutate({ id: u.id, body: { disabled: false } })}
                  >
                    {a.agents.enable}
                  </Button>
                ) : (
                  <ConfirmButton
                    label={a.agents.disable}
                    question={a.agents.disableQuestion(u.email)}
                    onConfirm={() => update.mutate({ id: u.id, body: { disabled: true } })}
                  />
                )}
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      <ServerError error={update.error} />
      <InviteForm roles={roles} onInvited={refresh} />
    </Section>
  );
}

/** Invites someone by email with a role; the invitation link is shown once, to send them. */
function InviteForm({ roles, onInvited }: { roles: readonly Role[]; onInvited: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [error, setError] = useState<string | undefined>();
  const invite = useMutation({
    mutationFn: () =>
      api(Invited, "/api/v1/users", {
        method: "POST",
        body: { email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}) },
      }),
    onSuccess: () => {
      setEmail("");
      setName("");
      onInvited();
    },
  });
  return (
    <form
      className="admin-form"
      aria-labelledby="invite-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const bad = /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()) ? undefined : a.checks.email;
        setError(bad);
        if (!bad) invite.mutate();
      }}
    >
      <h3 id="invite-title">{a.agents.invite}</h3>
      <TextInput
        label={a.agents.email}
        type="email"
        required
        value={email}
        error={error}
        onChange={(e) => setEmail(e.currentTarget.value)}
      />
      <TextInput label={a.agents.name} value={name} onChange={(e) => setName(e.currentTarget.value)} />
      <NativeSelect
        label={a.agents.role}
        value={role}
        onChange={(e) => setRole(e.currentTarget.value)}
        data={roles.map((r) => ({ value: r, label: a.roles[r] }))}
      />
      <ServerError error={invite.error} />
      <div>
        <Button type="submit" loading={invite.isPending}>
          {a.agents.inviteButton}
        </Button>
      </div>
      {invite.data?.inviteUrl ? (
        <div className="admin-panel" role="status">
          <p>{a.agents.invited(invite.data.user.email)}</p>
          <CopyField
            label={a.agents.inviteLink}
            value={invite.data.inviteUrl}
            hint={a.agents.inviteLinkHint}
          />
        </div>
      ) : null}
    </form>
  );
}
