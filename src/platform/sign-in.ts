import { and, eq, inArray } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { recordAudit } from "./audit.ts";
import { consumeOneTimeToken, issueOneTimeToken } from "./one-time-tokens.ts";
import { hashPassword, verifyDummyPassword, verifyPassword } from "./passwords.ts";
import type { Actor } from "./roles.ts";
import { createSession, revokeUserSessions } from "./sessions.ts";
import { users, workspaces } from "./tables.ts";
import { normalizeEmail, type SignedIn, toUser } from "./users.ts";
import { getWorkspace } from "./workspaces.ts";

type Client = { ip?: string | null | undefined; userAgent?: string | null | undefined };

const INVALID = "The email or password is wrong.";

/**
 * Signs in with email and password. A wrong password and an unknown email get the same
 * `auth.invalid_credentials` after the same hashing work. When the email is a member of
 * several workspaces and the password matches more than one, the caller must pick a
 * workspace (`auth.workspace_required`, listing only the workspaces the password opened).
 */
export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; workspace?: string | undefined } & Client,
): Promise<SignedIn> {
  const email = normalizeEmail(input.email);
  const candidates = await db
    .select({ user: users, slug: workspaces.slug })
    .from(users)
    .innerJoin(workspaces, eq(workspaces.id, users.workspaceId))
    .where(
      and(
        eq(users.email, email),
        inArray(users.status, ["active", "disabled"]),
        input.workspace ? eq(workspaces.slug, input.workspace) : undefined,
      ),
    );
  const withPassword = candidates.filter((c) => c.user.passwordHash !== null);
  if (withPassword.length === 0) {
    await verifyDummyPassword(input.password);
    throw new AppError("auth.invalid_credentials", INVALID);
  }
  const matched: typeof withPassword = [];
  for (const c of withPassword) {
    if (c.user.passwordHash && (await verifyPassword(c.user.passwordHash, input.password))) matched.push(c);
  }
  if (matched.length === 0) {
    // the owners of these workspaces should see guessing against their members
    for (const c of withPassword) {
      await recordAudit(db, {
        workspaceId: c.user.workspaceId,
        actor: { kind: "system" },
        action: "auth.sign_in_failed",
        target: { kind: "user", id: c.user.id },
        details: { email, reason: "wrong_password" },
        ip: input.ip,
      });
    }
    throw new AppError("auth.invalid_credentials", INVALID);
  }
  const active = matched.filter((c) => c.user.status === "active");
  const [only] = active;
  if (!only) {
    throw new AppError(
      "auth.account_disabled",
      "This account is disabled. Ask an owner or admin of the workspace to enable it again.",
    );
  }
  if (active.length > 1) {
    throw new AppError(
      "auth.workspace_required",
      "This email belongs to several workspaces: choose one and sign in again with its slug as `workspace`.",
      { workspaces: active.map((c) => c.slug).sort() },
    );
  }
  return db.transaction((tx) =>
    openSession(tx, only.user.workspaceId, only.user.id, "auth.signed_in", { method: "password" }, input),
  );
}

/** Creates a single-use sign-in link valid 24 hours (first start, `rapport login-link`). */
export async function createSignInLink(
  db: Db,
  config: Pick<Config, "publicUrl">,
  input: { workspaceId: string; userId: string; actor?: Actor; now?: Date },
): Promise<{ url: string; expiresAt: Date }> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id, status: users.status })
      .from(users)
      .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, input.userId)))
      .limit(1);
    if (!user)
      throw new AppError("users.not_found", "No user with that id in this workspace.", {
        userId: input.userId,
      });
    if (user.status !== "active") {
      throw new AppError(
        "users.not_active",
        `A sign-in link needs an active user; this one is ${user.status}.`,
        {
          status: user.status,
        },
      );
    }
    const { token, expiresAt } = await issueOneTimeToken(tx, { ...input, purpose: "sign_in" });
    await recordAudit(tx, {
      workspaceId: input.workspaceId,
      actor: input.actor ?? { kind: "system" },
      action: "auth.sign_in_link_created",
      target: { kind: "user", id: input.userId },
      details: { expiresAt: expiresAt.toISOString() },
    });
    return { url: `${config.publicUrl}/auth/link?token=${encodeURIComponent(token)}`, expiresAt };
  });
}

/** Spends a sign-in link and opens a session; a second use of the same link is refused. */
export async function redeemSignInLink(
  db: Db,
  input: { token: string; now?: Date } & Client,
): Promise<SignedIn> {
  return db.transaction(async (tx) => {
    const { workspaceId, userId } = await consumeOneTimeToken(tx, input.token, "sign_in", input.now);
    return openSession(tx, workspaceId, userId, "auth.sign_in_link_used", { method: "link" }, input);
  });
}

/**
 * Sets a new password for a signed-in user. The current one is required when there is one;
 * every other session of the user ends, so a stolen session does not outlive the change.
 */
export async function changePassword(
  db: Db,
  input: {
    workspaceId: string;
    userId: string;
    sessionId: string;
    currentPassword?: string | undefined;
    newPassword: string;
  } & Client,
): Promise<void> {
  const passwordHash = await hashPassword(input.newPassword);
  const [row] = await db
    .select({ passwordHash: users.passwordHash })
    .from(users)
    .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, input.userId)))
    .limit(1);
  if (!row) throw new AppError("users.not_found", "No such user.");
  if (row.passwordHash && !(await verifyPassword(row.passwordHash, input.currentPassword ?? ""))) {
    throw new AppError("auth.invalid_credentials", "The current password is wrong.", {
      field: "currentPassword",
    });
  }
  await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, input.userId)));
    await revokeUserSessions(tx, {
      workspaceId: input.workspaceId,
      userId: input.userId,
      exceptSessionId: input.sessionId,
    });
    await recordAudit(tx, {
      workspaceId: input.workspaceId,
      actor: { kind: "user", id: input.userId },
      action: "user.password_changed",
      target: { kind: "user", id: input.userId },
      ip: input.ip,
    });
  });
}

/** Marks the sign-in, opens the session and records it; run inside the caller's transaction. */
async function openSession(
  tx: Db,
  workspaceId: string,
  userId: string,
  action: string,
  details: Record<string, unknown>,
  client: Client,
): Promise<SignedIn> {
  const [row] = await tx
    .update(users)
    .set({ lastSignInAt: new Date() })
    .where(and(eq(users.workspaceId, workspaceId), eq(users.id, userId), eq(users.status, "active")))
    .returning();
  if (!row) {
    throw new AppError(
      "auth.account_disabled",
      "This account is disabled or not yet activated; ask an owner or admin.",
    );
  }
  const workspace = await getWorkspace(tx, workspaceId);
  if (!workspace) throw new Error(`workspace ${workspaceId} of user ${userId} is missing`);
  const session = await createSession(tx, {
    workspaceId,
    userId,
    ip: client.ip ?? null,
    userAgent: client.userAgent ?? null,
  });
  await recordAudit(tx, {
    workspaceId,
    actor: { kind: "user", id: userId },
    action,
    target: { kind: "session", id: session.sessionId },
    details,
    ip: client.ip,
  });
  return { user: toUser(row), workspace, session: { token: session.token, expiresAt: session.expiresAt } };
}
