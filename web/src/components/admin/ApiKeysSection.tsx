import { Alert, Button, NativeSelect, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as z from "zod/mini";
import { api } from "../../api.ts";
import { formatDateTime } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ConfirmButton, CopyField, ListState, Section, ServerError, Table } from "./parts.tsx";
import { ApiKey, ApiKeyCreated, ApiKeyList } from "./schemas.ts";

const Revoked = z.object({ apiKey: ApiKey });

/** API keys: create write or secret keys (the key is shown once), revoke them. */
export function ApiKeysSection() {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: keys.admin("api-keys"),
    queryFn: () => api(ApiKeyList, "/api/v1/api-keys"),
  });
  const [name, setName] = useState("");
  const [kind, setKind] = useState("secret");
  const [nameError, setNameError] = useState<string | undefined>();
  const refresh = () => client.invalidateQueries({ queryKey: keys.admin("api-keys") });
  const create = useMutation({
    mutationFn: () =>
      api(ApiKeyCreated, "/api/v1/api-keys", { method: "POST", body: { kind, name: name.trim() } }),
    onSuccess: () => {
      setName("");
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      api(Revoked, `/api/v1/api-keys/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => void refresh(),
  });
  const items = list.data?.apiKeys ?? [];
  const c = a.apiKeys.columns;
  return (
    <Section title={a.sections["api-keys"]} intro={a.apiKeys.intro}>
      {create.data ? (
        <div className="admin-panel" role="status" data-new-key>
          <Alert color="yellow">{a.apiKeys.once}</Alert>
          <CopyField label={a.apiKeys.token(create.data.apiKey.name)} value={create.data.token} />
          <div>
            <Button variant="default" onClick={() => create.reset()}>
              {a.apiKeys.stored}
            </Button>
          </div>
        </div>
      ) : null}
      <ListState query={list} empty={items.length === 0}>
        <Table caption={a.sections["api-keys"]} columns={[c.name, c.kind, c.hint, c.used, c.actions]}>
          {items.map((k) => (
            <tr key={k.id} data-key-name={k.name}>
              <Cell label={c.name}>{k.name}</Cell>
              <Cell label={c.kind}>{a.apiKeys.kinds[k.kind]}</Cell>
              <Cell label={c.hint}>
                <code>{k.hint}</code>
              </Cell>
              <Cell label={c.used}>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : a.apiKeys.never}</Cell>
              <Cell label={c.actions}>
                {k.revokedAt ? (
                  a.apiKeys.revokedAt(formatDateTime(k.revokedAt))
                ) : (
                  <ConfirmButton
                    label={a.apiKeys.revoke}
                    question={a.apiKeys.revokeQuestion(k.name)}
                    onConfirm={() => revoke.mutate(k.id)}
                  />
                )}
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      <ServerError error={revoke.error} />
      <form
        className="admin-form"
        aria-labelledby="key-form-title"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const bad = name.trim() === "" ? a.checks.required : undefined;
          setNameError(bad);
          if (!bad) create.mutate();
        }}
      >
        <h3 id="key-form-title">{a.apiKeys.create}</h3>
        <TextInput
          label={a.apiKeys.name}
          required
          value={name}
          error={nameError}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <NativeSelect
          label={a.apiKeys.kind}
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value)}
          data={[
            { value: "secret", label: a.apiKeys.kinds.secret },
            { value: "write", label: a.apiKeys.kinds.write },
          ]}
        />
        <p className="muted">{a.apiKeys.kindHelp}</p>
        <ServerError error={create.error} />
        <div>
          <Button type="submit" loading={create.isPending}>
            {a.apiKeys.createButton}
          </Button>
        </div>
      </form>
    </Section>
  );
}
