import type { Db } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { type IdentityKind, normalizeIdentifier } from "./identifiers.ts";
import { type ResolveResult, resolveInTransaction } from "./resolve.ts";
import type { Traits } from "./tables.ts";

/**
 * Finds or creates the customer behind identifiers seen together outside an event stream:
 * an inbound email's address, an SMS's phone number, a Messenger PSID, an import row.
 * Values are normalised first (invalid ones throw a clear AppError); the same merge rules
 * as ingestion apply.
 */
export async function identify(
  db: Db,
  workspaceId: string,
  input: {
    identifiers: Array<{ kind: IdentityKind; value: string }>;
    traits?: Traits;
    at?: Date;
    reason: string;
    defaultCountry: string;
  },
): Promise<ResolveResult> {
  const identifiers = input.identifiers.map((i) =>
    normalizeIdentifier(i.kind, i.value, input.defaultCountry),
  );
  return transactionWithRetry(db, (tx) =>
    resolveInTransaction(tx, workspaceId, {
      identifiers,
      at: input.at ?? new Date(),
      reason: input.reason,
      ...(input.traits ? { traits: input.traits } : {}),
    }),
  );
}
