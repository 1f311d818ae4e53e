import { createHash } from "node:crypto";
import type { Provider } from "./types.ts";

/**
 * The provider of a workspace that configured none: it sends nothing and keeps everything.
 * The delivery row holds the rendered message, so the sandbox outbox is simply the
 * deliveries this provider "delivered" (`listSandboxOutbox`).
 */
export function createSandboxProvider(): Provider {
  return {
    kind: "sandbox",
    async send(message) {
      const id = createHash("sha256").update(message.idempotencyKey).digest("hex").slice(0, 24);
      return { ok: true, providerMessageId: `sandbox_${id}`, state: "delivered" };
    },
  };
}
