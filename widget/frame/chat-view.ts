// The conversation panel: the messages, the agent's "typing…", the offline email form and the
// composer. It only draws and reports what the visitor does; main.ts decides.

import type { ChatMessage } from "./api.ts";
import { clock, el, icon, SEND_PATH } from "./dom.ts";
import type { Strings } from "./strings.ts";

/** The longest message the server takes (characters). */
export const MAX_MESSAGE = 4000;

export type ChatHandlers = {
  send(text: string): void;
  retry(clientId: string): void;
  typing(): void;
  email(address: string): void;
};

export class ChatView {
  readonly root: HTMLElement;
  readonly #log: HTMLElement;
  readonly #typing: HTMLElement;
  readonly #emailForm: HTMLFormElement;
  readonly #emailInput: HTMLInputElement;
  readonly #emailError: HTMLElement;
  readonly #composer: HTMLTextAreaElement;
  readonly #composerError: HTMLElement;
  readonly #shown = new Map<string, HTMLElement>();
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly t: Strings,
    private readonly lang: string,
    greeting: string,
    private readonly on: ChatHandlers,
  ) {
    // focusable, so keyboard users can scroll the history
    this.#log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-label": t.conversation,
      tabindex: "0",
    });
    this.#log.append(this.#bubble("agent", greeting, ""));
    this.#typing = el("p", { class: "typing", role: "status", "aria-live": "polite" });
    this.#emailInput = el("input", {
      id: "rapport-email",
      type: "email",
      name: "email",
      autocomplete: "email",
      required: true,
      inputmode: "email",
    });
    this.#emailError = el("p", { class: "error", role: "alert" });
    this.#emailForm = el(
      "form",
      { class: "email-form", hidden: true, novalidate: true },
      el("p", {}, t.offlineAsk),
      el("label", { for: "rapport-email" }, t.emailLabel),
      this.#emailInput,
      el("button", { type: "submit", class: "primary" }, t.emailSave),
      this.#emailError,
    );
    this.#emailForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = this.#emailInput.value.trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
        this.#emailError.textContent = t.emailInvalid;
        this.#emailInput.setAttribute("aria-invalid", "true");
        this.#emailInput.focus();
        return;
      }
      this.#emailInput.removeAttribute("aria-invalid");
      this.#emailError.textContent = "";
      on.email(v);
    });
    this.#composer = el("textarea", {
      id: "rapport-composer",
      name: "message",
      rows: "1",
      placeholder: t.composerPlaceholder,
      enterkeyhint: "send",
    });
    this.#composerError = el("p", { class: "error", role: "alert" });
    const form = el(
      "form",
      { class: "composer" },
      el("label", { for: "rapport-composer", class: "sr-only" }, t.composerLabel),
      this.#composer,
      el("button", { type: "submit", class: "send", "aria-label": t.send }, icon(SEND_PATH)),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.#submit();
    });
    this.#composer.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter starts a new line (as in every chat); not while composing (IME)
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#submit();
      }
    });
    this.#composer.addEventListener("input", () => {
      this.#grow();
      if (this.#composer.value.trim()) on.typing();
    });
    this.root = el(
      "section",
      { class: "panel chat", id: "rapport-panel-chat" },
      this.#log,
      this.#typing,
      this.#emailForm,
      this.#composerError,
      form,
    );
  }

  #submit(): void {
    const text = this.#composer.value.trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE) {
      this.#composerError.textContent = this.t.tooLong(MAX_MESSAGE);
      return;
    }
    this.#composerError.textContent = "";
    this.#composer.value = "";
    this.#grow();
    this.on.send(text);
  }

  #grow(): void {
    this.#composer.style.height = "auto";
    this.#composer.style.height = `${Math.min(this.#composer.scrollHeight, 120)}px`;
  }

  #bubble(who: "me" | "agent", text: string, at: string): HTMLElement {
    const author = who === "me" ? this.t.you : this.t.team;
    return el(
      "div",
      { class: `msg ${who}` },
      el("span", { class: "sr-only" }, `${author}: `),
      el("p", { class: "text" }, text),
      el("span", { class: "meta" }, at ? clock(at, this.lang) : ""),
    );
  }

  /** Shows a message once (by id, or by delivery for a reply); answers whether it is new. */
  show(m: ChatMessage): boolean {
    // the echo of a message this tab is still sending: the same bubble, now sent
    if (m.clientId && this.#shown.has(m.clientId) && !this.#shown.has(m.id)) {
      this.sent(m.clientId, m);
      return false;
    }
    const key = m.deliveryId ?? m.id;
    if (this.#shown.has(key) || this.#shown.has(m.id)) return false;
    const node = this.#bubble(m.direction === "inbound" ? "me" : "agent", m.text, m.createdAt);
    node.dataset.id = m.id;
    this.#shown.set(key, node);
    this.#shown.set(m.id, node);
    this.#log.append(node);
    if (m.direction === "outbound") this.typing(false);
    this.#scroll();
    return true;
  }

  /** The visitor's message while it is on its way; `sent` or `failed` follows. */
  pending(clientId: string, text: string): void {
    const node = this.#bubble("me", text, "");
    node.classList.add("pending");
    node.dataset.client = clientId;
    const meta = node.querySelector(".meta");
    if (meta) meta.textContent = this.t.sending;
    this.#shown.set(clientId, node);
    this.#log.append(node);
    this.#scroll();
  }

  sent(clientId: string, m: ChatMessage): void {
    const node = this.#shown.get(clientId);
    if (!node) {
      this.show(m);
      return;
    }
    node.classList.remove("pending", "failed");
    node.dataset.id = m.id;
    node.onclick = null;
    node.removeAttribute("role");
    node.removeAttribute("tabindex");
    const meta = node.querySelector(".meta");
    if (meta) meta.textContent = clock(m.createdAt, this.lang);
    this.#shown.set(m.id, node);
  }

  failed(clientId: string): void {
    const node = this.#shown.get(clientId);
    if (!node) return;
    node.classList.add("failed");
    node.setAttribute("role", "button");
    node.setAttribute("tabindex", "0");
    const meta = node.querySelector(".meta");
    if (meta) meta.textContent = this.t.failed;
    const retry = () => this.on.retry(clientId);
    node.onclick = retry;
    node.onkeydown = (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        retry();
      }
    };
  }

  /** The agent's "typing…": shown until they stop, send, or go quiet for a while. */
  typing(on: boolean): void {
    clearTimeout(this.#typingTimer);
    this.#typing.textContent = on ? this.t.typing : "";
    this.#typing.classList.toggle("on", on);
    if (on) {
      this.#typingTimer = setTimeout(() => this.typing(false), 8000);
      this.#scroll();
    }
  }

  askEmail(ask: boolean): void {
    this.#emailForm.hidden = !ask;
    if (ask) this.#scroll();
  }

  emailSaved(address: string): void {
    this.#emailForm.hidden = true;
    this.#log.append(this.#bubble("agent", this.t.emailSaved(address), ""));
    this.#scroll();
  }

  emailFailed(message: string): void {
    this.#emailError.textContent = message;
    this.#emailInput.setAttribute("aria-invalid", "true");
  }

  focus(): void {
    this.#composer.focus();
  }

  #scroll(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }
}
