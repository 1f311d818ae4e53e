import { useQuery } from "@tanstack/react-query";
import { api } from "../../api.ts";
import { formatDateTime, t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ListState, Section, Table } from "./parts.tsx";
import { type OutboxItem, OutboxPage } from "./schemas.ts";

function preview(item: OutboxItem): string {
  const text = item.content?.text ?? "";
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Everything the sandbox provider "sent", newest first, refreshed every few seconds. */
export function OutboxSection() {
  const list = useQuery({
    queryKey: keys.admin("outbox"),
    queryFn: () => api(OutboxPage, "/api/v1/sandbox/outbox?limit=100"),
    refetchInterval: 5_000,
  });
  const items = list.data?.data ?? [];
  const c = a.outbox.columns;
  return (
    <Section title={a.sections.outbox} intro={a.outbox.intro}>
      <ListState query={list} empty={items.length === 0}>
        <Table caption={a.sections.outbox} columns={[c.time, c.channel, c.to, c.message, c.state]}>
          {items.map((item) => {
            const at = item.sentAt ?? item.createdAt;
            return (
              <tr key={item.id} data-outbox-id={item.id}>
                <Cell label={c.time}>
                  <time dateTime={at}>{formatDateTime(at)}</time>
                </Cell>
                <Cell label={c.channel}>{t.channel(item.channel)}</Cell>
                <Cell label={c.to}>{item.address ?? "—"}</Cell>
                <Cell label={c.message}>
                  {item.content?.subject ? <strong>{item.content.subject}</strong> : null}
                  {item.content?.subject ? <br /> : null}
                  {preview(item)}
                </Cell>
                <Cell label={c.state}>{t.delivery(item.state)}</Cell>
              </tr>
            );
          })}
        </Table>
      </ListState>
    </Section>
  );
}
