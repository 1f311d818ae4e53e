import { describe, expect, it } from "vitest";
import { isCombo, keyLabels, matchShortcut, SHORTCUTS } from "../web/src/shortcuts.ts";

const key = (
  k: string,
  mods: Partial<{ ctrl: boolean; meta: boolean; shift: boolean; alt: boolean }> = {},
) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
  altKey: mods.alt ?? false,
});

describe("keyboard shortcuts", () => {
  it("single keys act outside fields only", () => {
    expect(matchShortcut(key("e"), false)).toBe("resolve");
    expect(matchShortcut(key("e"), true)).toBeUndefined();
    expect(matchShortcut(key("r"), false)).toBe("reply");
    expect(matchShortcut(key("R", { shift: true }), false)).toBe("reply");
    expect(matchShortcut(key("s"), false)).toBe("snooze");
    expect(matchShortcut(key("a"), false)).toBe("assignMe");
    expect(matchShortcut(key("m"), false)).toBe("merge");
    expect(matchShortcut(key("x"), false)).toBeUndefined();
  });

  it("a modifier makes a single key something else (the browser's own Ctrl+R, ⌘+L…)", () => {
    expect(matchShortcut(key("r", { ctrl: true }), false)).toBeUndefined();
    expect(matchShortcut(key("l", { meta: true }), false)).toBeUndefined();
    expect(matchShortcut(key("e", { alt: true }), false)).toBeUndefined();
  });

  it("? opens the list, whatever Shift it took", () => {
    expect(matchShortcut(key("?", { shift: true }), false)).toBe("help");
    expect(matchShortcut(key("?"), false)).toBe("help");
    expect(matchShortcut(key("?", { shift: true }), true)).toBeUndefined();
  });

  it("Escape works in fields too", () => {
    expect(matchShortcut(key("Escape"), true)).toBe("escape");
    expect(matchShortcut(key("Escape"), false)).toBe("escape");
  });

  it("Ctrl or ⌘ with Enter: send; with Shift too: send and resolve, never both", () => {
    expect(isCombo("Mod+Enter", key("Enter", { ctrl: true }))).toBe(true);
    expect(isCombo("Mod+Enter", key("Enter", { meta: true }))).toBe(true);
    expect(isCombo("Mod+Enter", key("Enter", { ctrl: true, shift: true }))).toBe(false);
    expect(isCombo("Mod+Shift+Enter", key("Enter", { meta: true, shift: true }))).toBe(true);
    expect(isCombo("Mod+Shift+Enter", key("Enter", { shift: true }))).toBe(false);
    expect(isCombo("Mod+Enter", key("Enter"))).toBe(false);
  });

  it("the local shortcuts (list, reply box) are listed but not matched page-wide", () => {
    expect(matchShortcut(key("j"), false)).toBeUndefined();
    expect(matchShortcut(key("/"), false)).toBeUndefined();
    expect(SHORTCUTS.map((s) => s.id)).toEqual(
      expect.arrayContaining(["next", "previous", "canned", "send"]),
    );
    expect(new Set(SHORTCUTS.map((s) => s.keys)).size).toBe(SHORTCUTS.length);
  });

  it("names keys the way the keyboard does", () => {
    expect(keyLabels("Mod+Shift+Enter", true)).toEqual(["⌘", "⇧", "Enter"]);
    expect(keyLabels("Mod+Enter", false)).toEqual(["Ctrl", "Enter"]);
    expect(keyLabels("Escape", false)).toEqual(["Esc"]);
  });
});
