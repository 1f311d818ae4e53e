import { useState } from "react";
import { filterCanned, useAgents, useCannedResponses } from "../../directory.ts";
import type { Suggestion } from "./Suggestions.tsx";
import { activeTrigger, type Trigger } from "./text-edit.ts";

/** What to suggest while the agent types `/…` at the start or `@…` in a note, and where the pick goes. */
export function useSuggestions(text: string, caret: number, note: boolean) {
  const [active, setActive] = useState(0);
  // Escape closes the list until the agent types somewhere else
  const [dismissed, setDismissed] = useState<string | null>(null);
  const found = activeTrigger(text, caret, note);
  const key = found ? `${found.kind}:${found.start}` : null;
  const trigger: Trigger | undefined = found && key !== dismissed ? found : undefined;
  const canned = useCannedResponses(trigger?.kind === "canned");
  const agents = useAgents();
  let items: Suggestion[] = [];
  if (trigger?.kind === "canned") {
    items = filterCanned(canned.data ?? [], trigger.query)
      .slice(0, 8)
      .map((c) => ({ id: c.id, label: `/${c.shortcut}`, detail: c.title }));
  } else if (trigger?.kind === "mention") {
    const q = trigger.query.toLowerCase();
    items = (agents.data ?? [])
      .filter(
        (a) =>
          !q ||
          a.name
            .toLowerCase()
            .split(/\s+/)
            .some((w) => w.startsWith(q)) ||
          a.email.startsWith(q),
      )
      .slice(0, 8)
      .map((a) => ({ id: a.id, label: a.name, detail: a.email }));
  }
  const index = Math.min(active, Math.max(items.length - 1, 0));
  return {
    trigger,
    items,
    active: index,
    move: (by: number) => setActive((index + by + items.length) % Math.max(items.length, 1)),
    dismiss: () => setDismissed(key),
    reset: () => setActive(0),
  };
}
