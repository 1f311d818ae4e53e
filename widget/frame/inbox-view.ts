// The message center panel: the in-app messages the brand sent the (signed-in) visitor.
// Selecting an unread message marks it read.

import type { InAppMessage } from "./api.ts";
import { el } from "./dom.ts";
import type { Strings } from "./strings.ts";

export class InboxView {
  readonly root: HTMLElement;
  readonly #list: HTMLElement;
  #messages: InAppMessage[] = [];

  constructor(
    private readonly t: Strings,
    private readonly lang: string,
    private readonly onRead: (id: string) => void,
  ) {
    this.#list = el("ul", { class: "inbox" });
    this.root = el(
      "section",
      { class: "panel messages", id: "rapport-panel-messages", hidden: true },
      this.#list,
    );
  }

  get unread(): number {
    return this.#messages.filter((m) => m.state === "unread").length;
  }

  set(messages: InAppMessage[]): void {
    this.#messages = messages.filter((m) => m.state === "unread" || m.state === "read");
    this.#draw();
  }

  /** A new message, or another device's change to one. */
  upsert(message: InAppMessage): void {
    this.#messages = [message, ...this.#messages.filter((m) => m.id !== message.id)].filter(
      (m) => m.state === "unread" || m.state === "read",
    );
    this.#draw();
  }

  markRead(id: string): void {
    const m = this.#messages.find((x) => x.id === id);
    if (m) m.state = "read";
    this.#draw();
  }

  #draw(): void {
    this.#list.replaceChildren();
    if (this.#messages.length === 0) {
      this.#list.append(el("li", { class: "empty" }, this.t.noMessages));
      return;
    }
    for (const m of this.#messages) {
      const unread = m.state === "unread";
      const date = new Date(m.createdAt).toLocaleDateString(this.lang, { day: "numeric", month: "short" });
      const body = el(
        "div",
        { class: "item-body" },
        m.title ? el("h2", {}, m.title) : null,
        el("p", {}, m.body),
        el("span", { class: "date" }, date),
      );
      const item = el("li", { class: unread ? "item unread" : "item" }, body);
      if (unread) {
        const button = el("button", { type: "button", class: "link" }, this.t.markRead);
        button.addEventListener("click", () => this.onRead(m.id));
        item.prepend(el("span", { class: "dot" }, el("span", { class: "sr-only" }, this.t.unread)));
        item.append(button);
      }
      this.#list.append(item);
    }
  }
}
