import { Button } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Me, NoContent } from "../../api.ts";
import { t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { InboxForm } from "./InboxForm.tsx";
import { InboxSetup } from "./InboxSetup.tsx";
import { Cell, ConfirmButton, ListState, Section, ServerError, Table } from "./parts.tsx";
import { type Inbox, InboxList } from "./schemas.ts";

/** The workspace's inboxes, a form to add one, and each one's setup (webhook URLs to paste). */
export function InboxesSection({ me }: { me: Me }) {
  const list = useQuery({
    queryKey: keys.admin("inboxes"),
    queryFn: () => api(InboxList, "/api/v1/inboxes"),
  });
  const client = useQueryClient();
  const [shown, setShown] = useState<{ inbox: Inbox; fresh: boolean } | undefined>();
  const [editing, setEditing] = useState<Inbox | undefined>();
  const remove = useMutation({
    mutationFn: (id: string) =>
      api(NoContent, `/api/v1/inboxes/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: (_r, id) => {
      if (shown?.inbox.id === id) setShown(undefined);
      if (editing?.id === id) setEditing(undefined);
      void client.invalidateQueries({ queryKey: keys.admin("inboxes") });
      void client.invalidateQueries({ queryKey: keys.directory("inboxes") });
    },
  });
  const inboxes = list.data?.data ?? [];
  const c = a.inboxes.columns;
  return (
    <Section title={a.sections.inboxes} intro={a.inboxes.intro}>
      {shown ? (
        <InboxSetup
          inbox={shown.inbox}
          workspaceId={me.workspace.id}
          publicUrl={me.publicUrl}
          fresh={shown.fresh}
        />
      ) : null}
      <ListState query={list} empty={inboxes.length === 0}>
        <Table caption={a.sections.inboxes} columns={[c.name, c.kind, c.address, c.setup, c.actions]}>
          {inboxes.map((inbox) => (
            <tr key={inbox.id} data-inbox-id={inbox.id}>
              <Cell label={c.name}>{inbox.name}</Cell>
              <Cell label={c.kind}>{a.kinds[inbox.kind] ?? t.channel(inbox.channel)}</Cell>
              <Cell label={c.address}>{inbox.address ?? "—"}</Cell>
              <Cell label={c.setup}>
                <Button
                  size="compact-sm"
                  variant="default"
                  aria-label={a.inboxes.showSetup(inbox.name)}
                  onClick={() => setShown({ inbox, fresh: false })}
                >
                  {a.inboxes.setup}
                </Button>
              </Cell>
              <Cell label={c.actions}>
                <span className="admin-actions">
                  <Button
                    size="compact-sm"
                    variant="default"
                    aria-label={a.inboxes.editOf(inbox.name)}
                    onClick={() => setEditing(inbox)}
                  >
                    {a.edit}
                  </Button>
                  <ConfirmButton
                    label={a.delete}
                    question={a.inboxes.deleteQuestion(inbox.name)}
                    onConfirm={() => remove.mutate(inbox.id)}
                    pending={remove.isPending && remove.variables === inbox.id}
                  />
                </span>
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      <ServerError error={remove.error} />
      {editing ? (
        <InboxForm
          key={editing.id}
          inbox={editing}
          onSaved={(inbox) => {
            setEditing(undefined);
            if (shown?.inbox.id === inbox.id) setShown({ inbox, fresh: false });
          }}
        />
      ) : (
        <InboxForm key="new" onSaved={(inbox) => setShown({ inbox, fresh: true })} />
      )}
    </Section>
  );
}
