import type { Db } from "../db/client.ts";
import { type ApiKey, type ApiKeyKind, createApiKey, forgetCachedKeys, revokeApiKey } from "./api-keys.ts";
import { recordAudit } from "./audit.ts";
import type { Actor } from "./roles.ts";

/** Creates an API key on someone's behalf and records it in the audit log, in one transaction. */
export async function createAuditedApiKey(
  db: Db,
  input: { workspaceId: string; actor: Actor; kind: ApiKeyKind; name: string; ip?: string | null },
): Promise<{ key: ApiKey; token: string }> {
  return db.transaction(async (tx) => {
    const created = await createApiKey(tx, {
      workspaceId: input.workspaceId,
      kind: input.kind,
      name: input.name,
      createdBy: input.actor.kind === "user" ? input.actor.id : null,
    });
    await recordAudit(tx, {
      workspaceId: input.workspaceId,
      actor: input.actor,
      action: "api_key.created",
      target: { kind: "api_key", id: created.key.id },
      details: { kind: input.kind, name: input.name, hint: created.key.hint },
      ip: input.ip,
    });
    return created;
  });
}

/** Revokes an API key on someone's behalf (it stops working at once) and records it. */
export async function revokeAuditedApiKey(
  db: Db,
  input: { workspaceId: string; actor: Actor; keyId: string; ip?: string | null },
): Promise<ApiKey> {
  const key = await db.transaction(async (tx) => {
    const revoked = await revokeApiKey(tx, input.workspaceId, input.keyId);
    await recordAudit(tx, {
      workspaceId: input.workspaceId,
      actor: input.actor,
      action: "api_key.revoked",
      target: { kind: "api_key", id: revoked.id },
      details: { kind: revoked.kind, name: revoked.name, hint: revoked.hint },
      ip: input.ip,
    });
    return revoked;
  });
  forgetCachedKeys();
  return key;
}
