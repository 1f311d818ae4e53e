import { Button, Checkbox, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as z from "zod/mini";
import { api, NoContent } from "../../api.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ListState, Section, ServerError, Table } from "./parts.tsx";
import { type Team, TeamList, type User, UserList } from "./schemas.ts";

const Created = z.object({ id: z.string() });

/** Teams and who is in them: create a team, set its members. */
export function TeamsSection() {
  const client = useQueryClient();
  const teams = useQuery({ queryKey: keys.admin("teams"), queryFn: () => api(TeamList, "/api/v1/teams") });
  const users = useQuery({ queryKey: keys.admin("agents"), queryFn: () => api(UserList, "/api/v1/users") });
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const create = useMutation({
    mutationFn: (n: string) => api(Created, "/api/v1/teams", { method: "POST", body: { name: n } }),
    onSuccess: () => {
      setName("");
      void client.invalidateQueries({ queryKey: keys.admin("teams") });
      void client.invalidateQueries({ queryKey: keys.directory("teams") });
    },
  });
  const people = users.data?.users ?? [];
  const nameOf = (id: string) =>
    people.find((u) => u.id === id)?.name || people.find((u) => u.id === id)?.email || id;
  const list = teams.data?.data ?? [];
  const c = a.teams.columns;
  const open = list.find((team) => team.id === editing);
  return (
    <Section title={a.sections.teams} intro={a.teams.intro}>
      <ListState query={teams} empty={list.length === 0}>
        <Table caption={a.sections.teams} columns={[c.name, c.members, c.actions]}>
          {list.map((team) => (
            <tr key={team.id} data-team-id={team.id}>
              <Cell label={c.name}>{team.name}</Cell>
              <Cell label={c.members}>
                {team.memberIds.length === 0 ? a.teams.nobody : team.memberIds.map(nameOf).join(", ")}
              </Cell>
              <Cell label={c.actions}>
                <Button size="compact-sm" variant="default" onClick={() => setEditing(team.id)}>
                  {a.teams.editMembers}
                </Button>
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      {open ? (
        <Members key={open.id} team={open} people={people} onDone={() => setEditing(undefined)} />
      ) : null}
      <form
        className="admin-form"
        aria-labelledby="team-form-title"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() === "") {
            setNameError(a.checks.required);
            return;
          }
          setNameError(undefined);
          create.mutate(name.trim());
        }}
      >
        <h3 id="team-form-title">{a.teams.create}</h3>
        <TextInput
          label={a.teams.name}
          required
          value={name}
          error={nameError}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <ServerError error={create.error} />
        <div>
          <Button type="submit" loading={create.isPending}>
            {a.teams.createButton}
          </Button>
        </div>
      </form>
    </Section>
  );
}

/** A team's members, ticked from the workspace's active users. */
function Members({ team, people, onDone }: { team: Team; people: User[]; onDone: () => void }) {
  const client = useQueryClient();
  const [chosen, setChosen] = useState(() => new Set(team.memberIds));
  const save = useMutation({
    mutationFn: () =>
      api(NoContent, `/api/v1/teams/${encodeURIComponent(team.id)}/members`, {
        method: "PUT",
        body: { userIds: [...chosen] },
      }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.admin("teams") });
      void client.invalidateQueries({ queryKey: keys.directory("teams") });
      onDone();
    },
  });
  return (
    <form
      className="admin-form"
      aria-labelledby="members-title"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h3 id="members-title">{a.teams.membersOf(team.name)}</h3>
      <fieldset className="checks">
        <legend className="visually-hidden">{a.teams.membersOf(team.name)}</legend>
        {people
          .filter((u) => u.status !== "disabled")
          .map((u) => (
            <Checkbox
              key={u.id}
              label={u.name || u.email}
              checked={chosen.has(u.id)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.currentTarget.checked) next.add(u.id);
                else next.delete(u.id);
                setChosen(next);
              }}
            />
          ))}
      </fieldset>
      <ServerError error={save.error} />
      <span className="admin-actions">
        <Button type="submit" loading={save.isPending}>
          {a.save}
        </Button>
        <Button variant="default" onClick={onDone}>
          {a.cancel}
        </Button>
      </span>
    </form>
  );
}
