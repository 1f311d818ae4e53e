// The messages the loader (on the brand's page) and the chat frame (on Rapport's origin)
// exchange with postMessage. Both check the other's origin and window before trusting one.

/** What the brand's page says about the visitor: ids (a user id needs its hash), name, language. */
export type VisitorSettings = {
  workspaceId: string;
  inboxId: string;
  userId?: string;
  userHash?: string;
  email?: string;
  name?: string;
  locale?: string;
};

/** Where the visitor is on the brand's site: the page, how they came, its campaign tags. */
export type PageInfo = { pageUrl: string; referrer?: string; utm?: Record<string, string> };

/** Marks every message of ours, so other scripts' postMessage traffic is ignored. */
export const CHANNEL = "rapport-chat";

export type ToFrame =
  | { channel: typeof CHANNEL; type: "boot"; settings: VisitorSettings; page: PageInfo }
  | { channel: typeof CHANNEL; type: "open" }
  | { channel: typeof CHANNEL; type: "closed" }
  | { channel: typeof CHANNEL; type: "identify"; settings: VisitorSettings }
  | { channel: typeof CHANNEL; type: "shutdown" };

export type ToLoader =
  | { channel: typeof CHANNEL; type: "ready" }
  | { channel: typeof CHANNEL; type: "close" }
  | { channel: typeof CHANNEL; type: "unread"; count: number }
  | { channel: typeof CHANNEL; type: "engaged" }
  | { channel: typeof CHANNEL; type: "theme"; color: string };

/** True when `data` is one of our messages (a plain object on our channel with a type). */
export function ours(data: unknown): data is { channel: string; type: string } {
  return (
    typeof data === "object" &&
    data !== null &&
    (data as { channel?: unknown }).channel === CHANNEL &&
    typeof (data as { type?: unknown }).type === "string"
  );
}
