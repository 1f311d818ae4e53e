import { Button } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, NoContent } from "../../api.ts";
import { formatDateTime } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ConfirmButton, CopyField, ListState, Section, ServerError, Table } from "./parts.tsx";
import { AttemptList, type Endpoint, EndpointList, EndpointOne } from "./schemas.ts";
import { WebhookForm } from "./WebhookForm.tsx";

type Action = { id: string; kind: "rotate" | "delete" | "enable" | "disable" | "test" };

/** Outbound webhook endpoints: create, enable/disable, rotate the secret, delete, recent attempts. */
export function WebhooksSection() {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: keys.admin("webhooks"),
    queryFn: () => api(EndpointList, "/api/v1/webhooks/endpoints"),
  });
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>();
  const [attemptsOf, setAttemptsOf] = useState<string | undefined>();
  const act = useMutation({
    mutationFn: async ({ id, kind }: Action): Promise<Endpoint | undefined> => {
      const base = `/api/v1/webhooks/endpoints/${encodeURIComponent(id)}`;
      if (kind === "rotate")
        return (await api(EndpointOne, `${base}/rotate-secret`, { method: "POST" })).endpoint;
      if (kind === "delete") return (await api(EndpointOne, base, { method: "DELETE" })).endpoint;
      // a test answers the message it queued: it shows in the endpoint's attempts
      if (kind === "test") return void (await api(NoContent, `${base}/test`, { method: "POST" }));
      const body = { enabled: kind === "enable" };
      return (await api(EndpointOne, base, { method: "PATCH", body })).endpoint;
    },
    onSuccess: (endpoint, { kind, id }) => {
      if (kind === "rotate" && endpoint?.secret) setSecret({ url: endpoint.url, secret: endpoint.secret });
      if (kind === "test") setAttemptsOf(id);
      void client.invalidateQueries({ queryKey: keys.admin("webhooks") });
    },
  });
  const items = list.data?.data ?? [];
  const c = a.webhooks.columns;
  return (
    <Section title={a.sections.webhooks} intro={a.webhooks.intro}>
      {secret ? (
        <div className="admin-panel" role="status" data-endpoint-secret>
          <p>{a.webhooks.secretOnce(secret.url)}</p>
          <CopyField label={a.webhooks.secret} value={secret.secret} hint={a.webhooks.secretHint} />
        </div>
      ) : null}
      <ListState query={list} empty={items.length === 0}>
        <Table caption={a.sections.webhooks} columns={[c.url, c.events, c.state, c.actions]}>
          {items.map((e) => (
            <EndpointRow
              key={e.id}
              endpoint={e}
              onAct={(kind) => act.mutate({ id: e.id, kind })}
              onAttempts={() => setAttemptsOf(attemptsOf === e.id ? undefined : e.id)}
            />
          ))}
        </Table>
      </ListState>
      <ServerError error={act.error} />
      {attemptsOf ? <Attempts id={attemptsOf} /> : null}
      <WebhookForm onCreated={(e) => e.secret && setSecret({ url: e.url, secret: e.secret })} />
    </Section>
  );
}

function EndpointRow({
  endpoint: e,
  onAct,
  onAttempts,
}: {
  endpoint: Endpoint;
  onAct: (kind: Action["kind"]) => void;
  onAttempts: () => void;
}) {
  const c = a.webhooks.columns;
  return (
    <tr data-endpoint-url={e.url}>
      <Cell label={c.url}>
        <code>{e.url}</code>
        {e.description ? <div className="muted">{e.description}</div> : null}
      </Cell>
      <Cell label={c.events}>
        {e.eventTypes.length === 0 ? a.webhooks.allEvents : e.eventTypes.join(", ")}
      </Cell>
      <Cell label={c.state}>
        {e.enabled ? a.webhooks.enabled : a.webhooks.disabled}
        {e.disabledReason ? <div className="muted">{e.disabledReason}</div> : null}
      </Cell>
      <Cell label={c.actions}>
        <span className="admin-actions">
          <Button size="compact-sm" variant="default" onClick={onAttempts}>
            {a.webhooks.attempts}
          </Button>
          <Button size="compact-sm" variant="default" onClick={() => onAct("test")}>
            {a.webhooks.test}
          </Button>
          <Button size="compact-sm" variant="outline" onClick={() => onAct(e.enabled ? "disable" : "enable")}>
            {e.enabled ? a.webhooks.disable : a.webhooks.enable}
          </Button>
          <ConfirmButton
            label={a.webhooks.rotate}
            question={a.webhooks.rotateQuestion}
            onConfirm={() => onAct("rotate")}
          />
          <ConfirmButton
            label={a.delete}
            question={a.webhooks.deleteQuestion(e.url)}
            onConfirm={() => onAct("delete")}
          />
        </span>
      </Cell>
    </tr>
  );
}

/** An endpoint's recent messages: each event, its state, attempts and the last answer. */
function Attempts({ id }: { id: string }) {
  const list = useQuery({
    queryKey: keys.admin("webhooks", id, "attempts"),
    queryFn: () => api(AttemptList, `/api/v1/webhooks/endpoints/${encodeURIComponent(id)}/messages?limit=20`),
    refetchInterval: 5_000,
  });
  const items = list.data?.data ?? [];
  const c = a.webhooks.attemptColumns;
  return (
    <section className="admin-panel" aria-labelledby="attempts-title">
      <h3 id="attempts-title">{a.webhooks.recent}</h3>
      <ListState query={list} empty={items.length === 0}>
        <Table caption={a.webhooks.recent} columns={[c.time, c.event, c.state, c.answer]}>
          {items.map((m) => (
            <tr key={m.id}>
              <Cell label={c.time}>{formatDateTime(m.createdAt)}</Cell>
              <Cell label={c.event}>{m.eventType}</Cell>
              <Cell label={c.state}>{a.webhooks.states(m.state, m.attempts)}</Cell>
              <Cell label={c.answer}>{m.lastStatus ?? m.lastError ?? "—"}</Cell>
            </tr>
          ))}
        </Table>
      </ListState>
    </section>
  );
}
