/** Which of the header's menus or dialogs is open (one at a time; shortcuts open them too). */
export type Panel =
  | "status"
  | "snooze"
  | "snoozeCustom"
  | "assign"
  | "team"
  | "labels"
  | "priority"
  | "merge"
  | "help"
  | null;

/**
 * Moves the keyboard to an open menu's first item. The menus do not trap focus (the trap's
 * focusable sentinel is not a valid child of a menu), so opening one from a shortcut focuses here.
 */
export function focusFirstItem(tries = 10): void {
  // the dropdown mounts a frame or two after the menu starts opening
  requestAnimationFrame(() => {
    const item = document.querySelector<HTMLElement>(
      "[data-menu-dropdown] [role=menuitem]:not([data-disabled]):not([disabled])",
    );
    if (item) item.focus();
    else if (tries > 0) focusFirstItem(tries - 1);
  });
}
