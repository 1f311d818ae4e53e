import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { oneTimeTokens } from "./tables.ts";
import { hashToken, parsePrefixedToken, randomToken, workspaceTag } from "./tokens.ts";

export type OneTimePurpose = "sign_in" | "invite";

const PREFIX: Record<OneTimePurpose, string> = { sign_in: "sl", invite: "iv" };
const NOUN: Record<OneTimePurpose, string> = { sign_in: "sign-in link", invite: "invitation link" };

/** How long each kind of link stays valid. */
export const ONE_TIME_TTL_MS: Record<OneTimePurpose, number> = {
  sign_in: 24 * 60 * 60 * 1000,
  invite: 7 * 24 * 60 * 60 * 1000,
};

/** Creates a single-use token for a user; only its SHA-256 is stored. */
export async function issueOneTimeToken(
  db: Db,
  input: { workspaceId: string; userId: string; purpose: OneTimePurpose; now?: Date | undefined },
): Promise<{ token: string; expiresAt: Date }> {
  const now = input.now ?? new Date();
  const token = `${PREFIX[input.purpose]}_${workspaceTag(input.workspaceId)}_${randomToken(32)}`;
  const expiresAt = new Date(now.getTime() + ONE_TIME_TTL_MS[input.purpose]);
  await db.insert(oneTimeTokens).values({
    workspaceId: input.workspaceId,
    id: uuidv7(now.getTime()),
    purpose: input.purpose,
    userId: input.userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt };
}

/**
 * Marks the token used and returns whose it is. The check and the mark are one UPDATE, so
 * of two concurrent uses exactly one wins. Call it inside the transaction that acts on it:
 * if that transaction fails, the token stays unused.
 */
export async function consumeOneTimeToken(
  db: Db,
  token: string,
  purpose: OneTimePurpose,
  now: Date = new Date(),
): Promise<{ workspaceId: string; userId: string }> {
  const parsed = parsePrefixedToken(token, PREFIX[purpose]);
  if (!parsed) throw invalid(purpose);
  const hash = hashToken(token);
  const where = and(
    eq(oneTimeTokens.workspaceId, parsed.workspaceId),
    eq(oneTimeTokens.tokenHash, hash),
    eq(oneTimeTokens.purpose, purpose),
  );
  const [won] = await db
    .update(oneTimeTokens)
    .set({ usedAt: now })
    .where(and(where, isNull(oneTimeTokens.usedAt), gt(oneTimeTokens.expiresAt, now)))
    .returning({ workspaceId: oneTimeTokens.workspaceId, userId: oneTimeTokens.userId });
  if (won) return won;
  // tell the person why, so they know to ask for a new link
  const [row] = await db.select().from(oneTimeTokens).where(where).limit(1);
  if (!row) throw invalid(purpose);
  if (row.usedAt) {
    throw new AppError(
      "auth.token_used",
      `This ${NOUN[purpose]} has already been used or was replaced; ask for a new one.`,
    );
  }
  throw new AppError("auth.token_expired", `This ${NOUN[purpose]} has expired; ask for a new one.`, {
    expiredAt: row.expiresAt.toISOString(),
  });
}

/** Withdraws every unused token of a user (on re-invite or disable), so old links stop working. */
export async function revokeOneTimeTokens(
  db: Db,
  input: { workspaceId: string; userId: string; purpose?: OneTimePurpose },
): Promise<void> {
  await db
    .update(oneTimeTokens)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(oneTimeTokens.workspaceId, input.workspaceId),
        eq(oneTimeTokens.userId, input.userId),
        input.purpose ? eq(oneTimeTokens.purpose, input.purpose) : undefined,
        isNull(oneTimeTokens.usedAt),
      ),
    );
}

function invalid(purpose: OneTimePurpose): AppError {
  return new AppError(
    "auth.token_invalid",
    `This ${NOUN[purpose]} is not valid; check that it was copied whole, or ask for a new one.`,
  );
}
