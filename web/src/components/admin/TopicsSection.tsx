import { Button, Checkbox, NativeSelect, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ConfirmButton, ListState, Section, ServerError, Table } from "./parts.tsx";
import { type Topic, TopicList, Topic as TopicSchema } from "./schemas.ts";

const KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
type Draft = { key: string; name: string; description: string; kind: string; visible: boolean };
const blank: Draft = { key: "", name: "", description: "", kind: "marketing", visible: true };

/** Topics customers subscribe to: list, create, edit, archive (and bring back). */
export function TopicsSection() {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: keys.admin("topics"),
    queryFn: () => api(TopicList, "/api/v1/topics?includeArchived=true"),
  });
  const [editing, setEditing] = useState<Topic | undefined>();
  const refresh = () => client.invalidateQueries({ queryKey: keys.admin("topics") });
  const change = useMutation({
    mutationFn: (v: { key: string; method: "PATCH" | "DELETE"; body?: unknown }) =>
      api(TopicSchema, `/api/v1/topics/${encodeURIComponent(v.key)}`, { method: v.method, body: v.body }),
    onSuccess: () => void refresh(),
  });
  const topics = list.data?.data ?? [];
  const c = a.topics.columns;
  return (
    <Section title={a.sections.topics} intro={a.topics.intro}>
      <ListState query={list} empty={topics.length === 0}>
        <Table caption={a.sections.topics} columns={[c.key, c.name, c.kind, c.state, c.actions]}>
          {topics.map((topic) => (
            <tr key={topic.id} data-topic-key={topic.key}>
              <Cell label={c.key}>
                <code>{topic.key}</code>
              </Cell>
              <Cell label={c.name}>{topic.names.en ?? Object.values(topic.names)[0] ?? ""}</Cell>
              <Cell label={c.kind}>{a.topics.kinds[topic.kind]}</Cell>
              <Cell label={c.state}>
                {topic.archivedAt ? a.topics.archived : topic.visible ? a.topics.visible : a.topics.hidden}
              </Cell>
              <Cell label={c.actions}>
                <span className="admin-actions">
                  <Button size="compact-sm" variant="default" onClick={() => setEditing(topic)}>
                    {a.edit}
                  </Button>
                  {topic.archivedAt ? (
                    <Button
                      size="compact-sm"
                      variant="outline"
                      onClick={() =>
                        change.mutate({ key: topic.key, method: "PATCH", body: { archived: false } })
                      }
                    >
                      {a.topics.restore}
                    </Button>
                  ) : (
                    <ConfirmButton
                      label={a.topics.archive}
                      question={a.topics.archiveQuestion(topic.key)}
                      onConfirm={() => change.mutate({ key: topic.key, method: "DELETE" })}
                    />
                  )}
                </span>
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      <ServerError error={change.error} />
      {editing ? (
        <TopicForm key={editing.id} topic={editing} onDone={() => setEditing(undefined)} />
      ) : (
        <TopicForm key="new" onDone={() => undefined} />
      )}
    </Section>
  );
}

/** Creates a topic, or changes one (its key stays). */
function TopicForm({ topic, onDone }: { topic?: Topic; onDone: () => void }) {
  const client = useQueryClient();
  const [d, setD] = useState<Draft>(
    topic
      ? {
          key: topic.key,
          name: topic.names.en ?? "",
          description: topic.descriptions.en ?? "",
          kind: topic.kind,
          visible: topic.visible,
        }
      : blank,
  );
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const save = useMutation({
    mutationFn: () => {
      const names = { ...(topic?.names ?? {}), en: d.name.trim() };
      const descriptions = d.description.trim()
        ? { ...(topic?.descriptions ?? {}), en: d.description.trim() }
        : undefined;
      const common = { names, ...(descriptions ? { descriptions } : {}), kind: d.kind, visible: d.visible };
      return topic
        ? api(TopicSchema, `/api/v1/topics/${encodeURIComponent(topic.key)}`, {
            method: "PATCH",
            body: common,
          })
        : api(TopicSchema, "/api/v1/topics", { method: "POST", body: { key: d.key.trim(), ...common } });
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.admin("topics") });
      setD(blank);
      onDone();
    },
  });
  const set = (k: keyof Draft, v: string | boolean) => setD((old) => ({ ...old, [k]: v }));
  return (
    <form
      className="admin-form"
      aria-labelledby="topic-form-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const found: Partial<Record<keyof Draft, string>> = {};
        if (!topic && !KEY.test(d.key.trim())) found.key = a.topics.keyRule;
        if (d.name.trim() === "") found.name = a.checks.required;
        setErrors(found);
        if (Object.keys(found).length === 0) save.mutate();
      }}
    >
      <h3 id="topic-form-title">{topic ? a.topics.editTitle(topic.key) : a.topics.create}</h3>
      {topic ? null : (
        <TextInput
          label={a.topics.key}
          description={a.topics.keyRule}
          required
          value={d.key}
          error={errors.key}
          onChange={(e) => set("key", e.currentTarget.value)}
        />
      )}
      <TextInput
        label={a.topics.name}
        required
        value={d.name}
        error={errors.name}
        onChange={(e) => set("name", e.currentTarget.value)}
      />
      <TextInput
        label={a.topics.description}
        value={d.description}
        onChange={(e) => set("description", e.currentTarget.value)}
      />
      <NativeSelect
        label={a.topics.kind}
        value={d.kind}
        onChange={(e) => set("kind", e.currentTarget.value)}
        data={[
          { value: "marketing", label: a.topics.kinds.marketing },
          { value: "transactional", label: a.topics.kinds.transactional },
        ]}
      />
      <Checkbox
        label={a.topics.visibleLabel}
        checked={d.visible}
        onChange={(e) => set("visible", e.currentTarget.checked)}
      />
      <ServerError error={save.error} />
      <span className="admin-actions">
        <Button type="submit" loading={save.isPending}>
          {topic ? a.save : a.topics.createButton}
        </Button>
        {topic ? (
          <Button variant="default" onClick={onDone}>
            {a.cancel}
          </Button>
        ) : null}
      </span>
    </form>
  );
}
