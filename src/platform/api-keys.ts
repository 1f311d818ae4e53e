import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { apiKeys } from "./tables.ts";
import { hashToken, parsePrefixedToken, randomToken, workspaceTag } from "./tokens.ts";

export type ApiKeyKind = "write" | "secret";
export type ApiKey = Omit<typeof apiKeys.$inferSelect, "tokenHash">;

const PREFIX: Record<ApiKeyKind, string> = { write: "wk", secret: "sk" };

/**
 * Creates a key and returns it with its token. The token is shown this once: only its
 * SHA-256 is stored. Write keys are public (apps embed them) and may only send events;
 * secret keys act on the whole workspace through the REST API.
 */
export async function createApiKey(
  db: Db,
  input: { workspaceId: string; kind: ApiKeyKind; name?: string; createdBy?: string | null },
): Promise<{ key: ApiKey; token: string }> {
  const token = `${PREFIX[input.kind]}_${workspaceTag(input.workspaceId)}_${randomToken(32)}`;
  const [row] = await db
    .insert(apiKeys)
    .values({
      workspaceId: input.workspaceId,
      id: uuidv7(),
      kind: input.kind,
      name: input.name ?? (input.kind === "write" ? "Write key" : "Secret key"),
      tokenHash: hashToken(token),
      hint: `${token.slice(0, 3)}…${token.slice(-4)}`,
      createdBy: input.createdBy ?? null,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  const { tokenHash: _hidden, ...key } = row;
  return { key, token };
}

export async function listApiKeys(db: Db, workspaceId: string): Promise<ApiKey[]> {
  const rowsFound = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.workspaceId, workspaceId))
    .orderBy(desc(apiKeys.createdAt));
  return rowsFound.map(({ tokenHash: _hidden, ...key }) => key);
}

/** Revokes a key at once; it stops working on the next request. */
export async function revokeApiKey(db: Db, workspaceId: string, keyId: string): Promise<ApiKey> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning();
  if (!row)
    throw new AppError("api_keys.not_found", "No active API key with that id in this workspace.", { keyId });
  writeKeyCache.clear();
  const { tokenHash: _hidden, ...key } = row;
  return key;
}

/**
 * Empties the write-key cache. `revokeApiKey` already does; call it again once a revoking
 * transaction commits, so a lookup racing the commit cannot keep the key cached.
 */
export function forgetCachedKeys(): void {
  writeKeyCache.clear();
}

export type VerifiedKey = { workspaceId: string; keyId: string; kind: ApiKeyKind };

// the ingestion hot path checks the same write key thousands of times a second
const writeKeyCache = new Map<string, { key: VerifiedKey; until: number }>();
const WRITE_KEY_CACHE_MS = 10_000;

/** Checks a token of the given kind; undefined when unknown, revoked or malformed. */
export async function verifyApiKey(
  db: Db,
  token: string,
  kind: ApiKeyKind,
): Promise<VerifiedKey | undefined> {
  const parsed = parsePrefixedToken(token, PREFIX[kind]);
  if (!parsed) return undefined;
  const hash = hashToken(token);
  if (kind === "write") {
    const hit = writeKeyCache.get(hash);
    if (hit && hit.until > Date.now()) return hit.key;
  }
  const [row] = await db
    .select({ id: apiKeys.id, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.workspaceId, parsed.workspaceId),
        eq(apiKeys.tokenHash, hash),
        eq(apiKeys.kind, kind),
        isNull(apiKeys.revokedAt),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  const key: VerifiedKey = { workspaceId: parsed.workspaceId, keyId: row.id, kind };
  // last use is kept to the minute: enough to spot unused keys without a write per request
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: new Date() })
      .where(and(eq(apiKeys.workspaceId, parsed.workspaceId), eq(apiKeys.id, row.id)));
  }
  if (kind === "write") {
    if (writeKeyCache.size > 10_000) writeKeyCache.clear();
    writeKeyCache.set(hash, { key, until: Date.now() + WRITE_KEY_CACHE_MS });
  }
  return key;
}
