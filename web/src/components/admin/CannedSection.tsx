import { Button, NativeSelect, Textarea, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ConversationPage, NoContent } from "../../api.ts";
import { t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { Cell, ConfirmButton, ListState, Section, ServerError, Table } from "./parts.tsx";
import { type Canned, CannedList, Canned as CannedSchema, Rendered } from "./schemas.ts";

const SHORTCUT = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** Canned responses: create, edit, delete, and preview one rendered for a real conversation. */
export function CannedSection() {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: keys.admin("canned"),
    queryFn: () => api(CannedList, "/api/v1/canned-responses?limit=200"),
  });
  const [editing, setEditing] = useState<Canned | undefined>();
  const [previewing, setPreviewing] = useState<Canned | undefined>();
  const remove = useMutation({
    mutationFn: (id: string) =>
      api(NoContent, `/api/v1/canned-responses/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.admin("canned") });
      void client.invalidateQueries({ queryKey: keys.directory("canned") });
    },
  });
  const items = list.data?.data ?? [];
  const c = a.canned.columns;
  return (
    <Section title={a.sections.canned} intro={a.canned.intro}>
      <ListState query={list} empty={items.length === 0}>
        <Table caption={a.sections.canned} columns={[c.shortcut, c.title, c.body, c.actions]}>
          {items.map((item) => (
            <tr key={item.id} data-canned-shortcut={item.shortcut}>
              <Cell label={c.shortcut}>
                <code>/{item.shortcut}</code>
              </Cell>
              <Cell label={c.title}>{item.title}</Cell>
              <Cell label={c.body}>{item.body.length > 120 ? `${item.body.slice(0, 120)}…` : item.body}</Cell>
              <Cell label={c.actions}>
                <span className="admin-actions">
                  <Button size="compact-sm" variant="default" onClick={() => setPreviewing(item)}>
                    {a.canned.preview}
                  </Button>
                  <Button size="compact-sm" variant="default" onClick={() => setEditing(item)}>
                    {a.edit}
                  </Button>
                  <ConfirmButton
                    label={a.delete}
                    question={a.canned.deleteQuestion(item.shortcut)}
                    onConfirm={() => remove.mutate(item.id)}
                  />
                </span>
              </Cell>
            </tr>
          ))}
        </Table>
      </ListState>
      <ServerError error={remove.error} />
      {previewing ? <Preview key={previewing.id} item={previewing} /> : null}
      <CannedForm key={editing?.id ?? "new"} item={editing} onDone={() => setEditing(undefined)} />
    </Section>
  );
}

/** The body rendered through Liquid for a conversation the admin picks, as an agent would insert it. */
function Preview({ item }: { item: Canned }) {
  const conversations = useQuery({
    queryKey: ["conversations", "admin-preview"],
    queryFn: () => api(ConversationPage, "/api/v1/conversations?limit=20"),
  });
  const [conversationId, setConversationId] = useState("");
  const render = useMutation({
    mutationFn: (id: string) =>
      api(Rendered, `/api/v1/canned-responses/${encodeURIComponent(item.id)}/render`, {
        method: "POST",
        body: { conversationId: id },
      }),
  });
  const options = conversations.data?.data ?? [];
  const chosen = conversationId || options[0]?.id || "";
  return (
    <section className="admin-panel" aria-labelledby="preview-title">
      <h3 id="preview-title">{a.canned.previewOf(item.shortcut)}</h3>
      {options.length === 0 && !conversations.isPending ? (
        <p className="muted">{a.canned.noConversation}</p>
      ) : (
        <>
          <NativeSelect
            label={a.canned.conversation}
            value={chosen}
            onChange={(e) => setConversationId(e.currentTarget.value)}
            data={options.map((c) => ({
              value: c.id,
              label: `${t.conversationTitle(c.number)} · ${c.customerName ?? c.contactAddress ?? t.unknownCustomer}`,
            }))}
          />
          <div>
            <Button
              onClick={() => chosen && render.mutate(chosen)}
              loading={render.isPending}
              disabled={!chosen}
            >
              {a.canned.render}
            </Button>
          </div>
        </>
      )}
      <ServerError error={render.error} />
      {render.data ? (
        <pre className="preview-text" data-canned-preview>
          {render.data.text}
        </pre>
      ) : null}
    </section>
  );
}

/** Creates a canned response, or changes one. */
function CannedForm({ item, onDone }: { item: Canned | undefined; onDone: () => void }) {
  const client = useQueryClient();
  const [shortcut, setShortcut] = useState(item?.shortcut ?? "");
  const [title, setTitle] = useState(item?.title ?? "");
  const [body, setBody] = useState(item?.body ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => {
      const payload = { shortcut: shortcut.trim(), title: title.trim(), body };
      return item
        ? api(CannedSchema, `/api/v1/canned-responses/${encodeURIComponent(item.id)}`, {
            method: "PATCH",
            body: payload,
          })
        : api(CannedSchema, "/api/v1/canned-responses", { method: "POST", body: payload });
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.admin("canned") });
      void client.invalidateQueries({ queryKey: keys.directory("canned") });
      setShortcut("");
      setTitle("");
      setBody("");
      onDone();
    },
  });
  return (
    <form
      className="admin-form"
      aria-labelledby="canned-form-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const found: Record<string, string> = {};
        if (!SHORTCUT.test(shortcut.trim())) found.shortcut = a.canned.shortcutRule;
        if (title.trim() === "") found.title = a.checks.required;
        if (body.trim() === "") found.body = a.checks.required;
        setErrors(found);
        if (Object.keys(found).length === 0) save.mutate();
      }}
    >
      <h3 id="canned-form-title">{item ? a.canned.editTitle(item.shortcut) : a.canned.create}</h3>
      <TextInput
        label={a.canned.shortcut}
        description={a.canned.shortcutRule}
        required
        value={shortcut}
        error={errors.shortcut}
        onChange={(e) => setShortcut(e.currentTarget.value)}
      />
      <TextInput
        label={a.canned.title}
        required
        value={title}
        error={errors.title}
        onChange={(e) => setTitle(e.currentTarget.value)}
      />
      <Textarea
        label={a.canned.body}
        description={a.canned.bodyHint}
        required
        autosize
        minRows={3}
        value={body}
        error={errors.body}
        onChange={(e) => setBody(e.currentTarget.value)}
      />
      <ServerError error={save.error} />
      <span className="admin-actions">
        <Button type="submit" loading={save.isPending}>
          {item ? a.save : a.canned.createButton}
        </Button>
        {item ? (
          <Button variant="default" onClick={onDone}>
            {a.cancel}
          </Button>
        ) : null}
      </span>
    </form>
  );
}
