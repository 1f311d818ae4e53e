import { Button, Checkbox, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api.ts";
import { keys } from "../../queries.ts";
import { a } from "../../strings/admin.ts";
import { ServerError } from "./parts.tsx";
import { type Endpoint, EndpointOne, EventTypes } from "./schemas.ts";

/** Creates a webhook endpoint: its URL, what it is for, the events it gets (all when none ticked). */
export function WebhookForm({ onCreated }: { onCreated: (endpoint: Endpoint) => void }) {
  const client = useQueryClient();
  const types = useQuery({
    queryKey: keys.admin("webhooks", "event-types"),
    queryFn: () => api(EventTypes, "/api/v1/webhooks/event-types"),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<Set<string>>(new Set());
  const [allowPrivate, setAllowPrivate] = useState(false);
  const [urlError, setUrlError] = useState<string | undefined>();
  const create = useMutation({
    mutationFn: () =>
      api(EndpointOne, "/api/v1/webhooks/endpoints", {
        method: "POST",
        body: {
          url: url.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
          eventTypes: [...events],
          ...(allowPrivate ? { allowPrivate } : {}),
        },
      }),
    onSuccess: ({ endpoint }) => {
      setUrl("");
      setDescription("");
      setEvents(new Set());
      setAllowPrivate(false);
      void client.invalidateQueries({ queryKey: keys.admin("webhooks") });
      onCreated(endpoint);
    },
  });
  return (
    <form
      className="admin-form"
      aria-labelledby="endpoint-form-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const bad = url.trim() === "" ? a.checks.required : undefined;
        setUrlError(bad);
        if (!bad) create.mutate();
      }}
    >
      <h3 id="endpoint-form-title">{a.webhooks.create}</h3>
      <TextInput
        label={a.webhooks.url}
        description={a.webhooks.urlHint}
        type="url"
        required
        value={url}
        error={urlError}
        onChange={(e) => setUrl(e.currentTarget.value)}
      />
      <TextInput
        label={a.webhooks.description}
        value={description}
        onChange={(e) => setDescription(e.currentTarget.value)}
      />
      <fieldset className="checks">
        <legend>{a.webhooks.events}</legend>
        {(types.data?.data ?? []).map((type) => (
          <Checkbox
            key={type}
            label={type}
            checked={events.has(type)}
            onChange={(e) => {
              const next = new Set(events);
              if (e.currentTarget.checked) next.add(type);
              else next.delete(type);
              setEvents(next);
            }}
          />
        ))}
      </fieldset>
      <Checkbox
        label={a.webhooks.allowPrivate}
        description={a.webhooks.allowPrivateHint}
        checked={allowPrivate}
        onChange={(e) => setAllowPrivate(e.currentTarget.checked)}
      />
      <ServerError error={create.error} />
      <div>
        <Button type="submit" loading={create.isPending}>
          {a.webhooks.createButton}
        </Button>
      </div>
    </form>
  );
}
