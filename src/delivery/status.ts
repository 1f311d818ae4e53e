import type { Db } from "../db/client.ts";
import type { DeliveryState } from "./tables.ts";

/** A provider's news about a message it accepted (a status callback, a bounce, an open). */
export type ProviderStatus = {
  /** The provider kind recorded on the delivery ("twilio", "smtp"…). */
  provider: string;
  providerMessageId: string;
  state: Extract<DeliveryState, "sent" | "delivered" | "failed" | "bounced" | "opened" | "clicked">;
  details?: Record<string, unknown>;
  /** When the provider says it happened; now when absent. */
  at?: Date;
};

/**
 * Applies a provider's status to the delivery it names (found by provider message id), keeps
 * the history, and tells the brand's webhooks. Answers false when no delivery matches.
 * Implemented with the delivery engine.
 */
export async function recordProviderStatus(
  _db: Db,
  _workspaceId: string,
  _status: ProviderStatus,
): Promise<boolean> {
  throw new Error("recordProviderStatus is not built yet");
}
