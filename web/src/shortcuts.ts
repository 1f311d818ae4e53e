import { useEffect, useRef } from "react";

// The keyboard shortcuts of the inbox: one registry the dialog lists and the matcher reads.
// Single keys act only outside text fields (typing an "e" must never resolve anything);
// Ctrl/⌘ combinations and Escape work inside them too.

export type ShortcutId =
  | "help"
  | "reply"
  | "note"
  | "resolve"
  | "snooze"
  | "assignMe"
  | "labels"
  | "priority"
  | "merge"
  | "escape"
  | "send"
  | "sendResolve"
  | "canned"
  | "next"
  | "previous";

export type Shortcut = {
  id: ShortcutId;
  /** The combination: `Mod` is Ctrl (⌘ on a Mac); `+` joins keys. */
  keys: string;
  /** Where it works: the open conversation, the reply box, the list. */
  scope: "conversation" | "composer" | "list";
  /** Also while typing in a field. */
  inFields: boolean;
  /** Handled by its own component (the list, the reply box), not by the page's listener. */
  local?: boolean;
};

export const SHORTCUTS: readonly Shortcut[] = [
  { id: "help", keys: "?", scope: "conversation", inFields: false },
  { id: "reply", keys: "r", scope: "conversation", inFields: false },
  { id: "note", keys: "n", scope: "conversation", inFields: false },
  { id: "resolve", keys: "e", scope: "conversation", inFields: false },
  { id: "snooze", keys: "s", scope: "conversation", inFields: false },
  { id: "assignMe", keys: "a", scope: "conversation", inFields: false },
  { id: "labels", keys: "l", scope: "conversation", inFields: false },
  { id: "priority", keys: "p", scope: "conversation", inFields: false },
  { id: "merge", keys: "m", scope: "conversation", inFields: false },
  { id: "escape", keys: "Escape", scope: "conversation", inFields: true },
  { id: "send", keys: "Mod+Enter", scope: "composer", inFields: true, local: true },
  { id: "sendResolve", keys: "Mod+Shift+Enter", scope: "composer", inFields: true, local: true },
  { id: "canned", keys: "/", scope: "composer", inFields: true, local: true },
  { id: "next", keys: "j", scope: "list", inFields: false, local: true },
  { id: "previous", keys: "k", scope: "list", inFields: false, local: true },
];

/** What of a keyboard event the matcher reads (a KeyboardEvent has all of it). */
export type KeyLike = { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean };

/** Whether `event` is the combination `keys` (`Mod` = Ctrl or ⌘). */
export function isCombo(keys: string, event: KeyLike): boolean {
  const parts = keys.split("+");
  const key = parts.pop() ?? "";
  const mod = parts.includes("Mod");
  const shift = parts.includes("Shift");
  if (event.altKey) return false;
  if (mod !== (event.ctrlKey || event.metaKey)) return false;
  // a printed character already says whether Shift was down ("?" is Shift+/ on many layouts)
  const printable = key.length === 1;
  if (!printable && shift !== event.shiftKey) return false;
  if (printable && shift && !event.shiftKey) return false;
  return printable
    ? event.key.toLowerCase() === key.toLowerCase() && event.key.length === 1
    : event.key === key;
}

/**
 * The shortcut of the page-wide registry `event` is, if any: `inField` says the keyboard is in
 * a text field, where only the shortcuts marked `inFields` count. Local shortcuts never match.
 */
export function matchShortcut(event: KeyLike, inField: boolean): ShortcutId | undefined {
  // the longest combination first: Mod+Shift+Enter is not Mod+Enter
  const candidates = SHORTCUTS.filter((s) => !s.local && (s.inFields || !inField));
  return candidates.find((s) => isCombo(s.keys, event))?.id;
}

/** The keys of a combination as the agent's keyboard names them. */
export function keyLabels(keys: string, mac: boolean): string[] {
  return keys.split("+").map((k) => {
    if (k === "Mod") return mac ? "⌘" : "Ctrl";
    if (k === "Shift") return mac ? "⇧" : "Shift";
    if (k === "Escape") return "Esc";
    return k;
  });
}

/** Whether a key event's target takes typing (a field, an editable element, a listbox option). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"].includes(type);
}

/**
 * Listens for the registry's shortcuts on the page while mounted and calls the handler of the
 * one pressed. Keys pressed in an open menu or dialog belong to it, not to the page.
 */
export function useShortcuts(handlers: Partial<Record<ShortcutId, (event: KeyboardEvent) => void>>): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      const target = event.target;
      if (target instanceof Element && target.closest("[role=dialog],[role=menu],[role=listbox]")) return;
      // an open dialog, menu, popover or suggestion list has the keyboard (Escape closes it, not the page)
      if (
        document.querySelector(
          "[role=dialog][aria-modal=true], [data-menu-dropdown], .mantine-Popover-dropdown, .suggestions",
        )
      )
        return;
      const id = matchShortcut(event, isTypingTarget(target));
      const handler = id ? current.current[id] : undefined;
      if (!handler) return;
      event.preventDefault();
      handler(event);
    };
    // heard before the page's own handlers, while what they would close is still open
    document.addEventListener("keydown", onKey, true);
    return () => document.removeEventListener("keydown", onKey, true);
  }, []);
}
