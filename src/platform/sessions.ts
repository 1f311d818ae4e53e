import { and, eq, gt, ne } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { uuidv7 } from "../ids.ts";
import type { Role } from "./roles.ts";
import { sessions, users } from "./tables.ts";
import { hashToken, parsePrefixedToken, randomToken, workspaceTag } from "./tokens.ts";

export const SESSION_COOKIE = "rapport_session";
/** Sessions slide: each use pushes the end 30 days out, so only idle sessions expire. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
// one write a minute per session is enough to slide; not one per request
const TOUCH_INTERVAL_MS = 60_000;
const PREFIX = "ss";

export type SessionInfo = {
  sessionId: string;
  workspaceId: string;
  userId: string;
  role: Role;
  expiresAt: Date;
};

/** Opens a session for a user and returns its token; only the token's SHA-256 is stored. */
export async function createSession(
  db: Db,
  input: { workspaceId: string; userId: string; ip?: string | null; userAgent?: string | null; now?: Date },
): Promise<{ token: string; sessionId: string; expiresAt: Date }> {
  const now = input.now ?? new Date();
  const token = `${PREFIX}_${workspaceTag(input.workspaceId)}_${randomToken(40)}`;
  const sessionId = uuidv7(now.getTime());
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insert(sessions).values({
    workspaceId: input.workspaceId,
    id: sessionId,
    userId: input.userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt,
    lastUsedAt: now,
    ip: input.ip ?? null,
    userAgent: input.userAgent?.slice(0, 512) ?? null,
  });
  return { token, sessionId, expiresAt };
}

/**
 * Resolves a session token to its user, or undefined when the token is malformed, unknown,
 * expired, revoked, or its user is not active. The user's status and role are read on every
 * call, so disabling a user or changing a role takes effect on the next request.
 */
export async function authenticateSession(
  db: Db,
  token: string,
  now: Date = new Date(),
): Promise<SessionInfo | undefined> {
  const parsed = parsePrefixedToken(token, PREFIX);
  if (!parsed) return undefined;
  const [row] = await db
    .select({
      sessionId: sessions.id,
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      lastUsedAt: sessions.lastUsedAt,
      role: users.role,
    })
    .from(sessions)
    .innerJoin(users, and(eq(users.workspaceId, sessions.workspaceId), eq(users.id, sessions.userId)))
    .where(
      and(
        eq(sessions.workspaceId, parsed.workspaceId),
        eq(sessions.tokenHash, hashToken(token)),
        gt(sessions.expiresAt, now),
        eq(users.status, "active"),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  let expiresAt = row.expiresAt;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
    expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await db
      .update(sessions)
      .set({ lastUsedAt: now, expiresAt })
      .where(and(eq(sessions.workspaceId, parsed.workspaceId), eq(sessions.id, row.sessionId)));
  }
  return {
    sessionId: row.sessionId,
    workspaceId: parsed.workspaceId,
    userId: row.userId,
    role: row.role,
    expiresAt,
  };
}

/** Ends the session behind a token (sign-out). Unknown tokens are ignored: signing out twice is fine. */
export async function revokeSession(db: Db, token: string): Promise<void> {
  const parsed = parsePrefixedToken(token, PREFIX);
  if (!parsed) return;
  await db
    .delete(sessions)
    .where(and(eq(sessions.workspaceId, parsed.workspaceId), eq(sessions.tokenHash, hashToken(token))));
}

/** Ends every session of a user (disable, password change); pass the transaction making that change. */
export async function revokeUserSessions(
  db: Db,
  input: { workspaceId: string; userId: string; exceptSessionId?: string },
): Promise<void> {
  await db
    .delete(sessions)
    .where(
      and(
        eq(sessions.workspaceId, input.workspaceId),
        eq(sessions.userId, input.userId),
        input.exceptSessionId ? ne(sessions.id, input.exceptSessionId) : undefined,
      ),
    );
}

/** Cookie attributes for the session cookie; `secure` follows the public URL's scheme. */
export function sessionCookieOptions(publicUrl: string, expiresAt?: Date) {
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    path: "/",
    secure: publicUrl.startsWith("https://"),
    ...(expiresAt ? { expires: expiresAt } : {}),
  };
}
