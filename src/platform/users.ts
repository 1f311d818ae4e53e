import { and, asc, eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { recordAudit } from "./audit.ts";
import { consumeOneTimeToken, issueOneTimeToken, revokeOneTimeTokens } from "./one-time-tokens.ts";
import { hashPassword } from "./passwords.ts";
import type { Actor, Role, UserStatus } from "./roles.ts";
import { createSession, revokeUserSessions } from "./sessions.ts";
import { users } from "./tables.ts";
import { getWorkspace, type Workspace } from "./workspaces.ts";

type UserRow = typeof users.$inferSelect;
/** A user as the rest of the product sees it: never with the password hash. */
export type User = Omit<UserRow, "passwordHash">;

/** Emails compare case-insensitively everywhere, so they are stored trimmed and lower-case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Drops the password hash from a row. */
export function toUser(row: UserRow): User {
  const { passwordHash: _hidden, ...user } = row;
  return user;
}

/**
 * Inserts a user. The low-level step behind invitations and bootstrap: no role checks, no
 * audit (callers record their own). An email already in the workspace is `users.already_exists`.
 */
export async function createUser(
  db: Db,
  input: {
    workspaceId: string;
    email: string;
    role: Role;
    status: UserStatus;
    name?: string | undefined;
    passwordHash?: string | null;
  },
): Promise<User> {
  const email = normalizeEmail(input.email);
  // the HTTP layer validates properly; this only stops obvious garbage from other callers
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new AppError("users.invalid_email", `"${input.email}" is not an email address.`, {
      field: "email",
    });
  }
  const [row] = await db
    .insert(users)
    .values({
      workspaceId: input.workspaceId,
      id: uuidv7(),
      email,
      name: input.name?.trim() ?? "",
      role: input.role,
      status: input.status,
      passwordHash: input.passwordHash ?? null,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    throw new AppError(
      "users.already_exists",
      `A user with email ${email} already exists in this workspace.`,
      {
        email,
      },
    );
  }
  return toUser(row);
}

export async function getUser(db: Db, workspaceId: string, userId: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.id, userId)))
    .limit(1);
  return row ? toUser(row) : undefined;
}

/** The member with this email (any case), for `rapport login-link --email`. */
export async function findUserByEmail(db: Db, workspaceId: string, email: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.email, normalizeEmail(email))))
    .limit(1);
  return row ? toUser(row) : undefined;
}

export async function listUsers(db: Db, workspaceId: string): Promise<User[]> {
  const found = await db
    .select()
    .from(users)
    .where(eq(users.workspaceId, workspaceId))
    .orderBy(asc(users.id));
  return found.map(toUser);
}

/** Only owners (and secret keys, which act as the workspace) may grant or take away the owner role. */
function assertMayTouchOwners(actor: Actor, why: string): void {
  if (actor.kind === "user" && actor.role !== "owner") {
    throw new AppError("auth.forbidden", `Only owners can ${why}.`);
  }
}

function assertManager(actor: Actor): void {
  if (actor.kind === "user" && actor.role === "agent") {
    throw new AppError("auth.forbidden", "Only owners and admins can manage users.");
  }
}

/**
 * Invites someone by email: a user with status `invited` and a link valid 7 days. Inviting
 * an email that is still `invited` sends a fresh link (the old one stops working).
 */
export async function inviteUser(
  db: Db,
  config: Pick<Config, "publicUrl">,
  input: {
    workspaceId: string;
    actor: Actor;
    email: string;
    role: Role;
    name?: string | undefined;
    ip?: string | null;
  },
): Promise<{ user: User; inviteUrl: string; expiresAt: Date }> {
  assertManager(input.actor);
  if (input.role === "owner") assertMayTouchOwners(input.actor, "invite owners");
  const email = normalizeEmail(input.email);
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, input.workspaceId), eq(users.email, email)))
      .for("update")
      .limit(1);
    let user: User;
    if (existing) {
      if (existing.status !== "invited") {
        throw new AppError("users.already_exists", `${email} is already a member of this workspace.`, {
          email,
          userId: existing.id,
        });
      }
      if (existing.role === "owner") assertMayTouchOwners(input.actor, "re-invite owners");
      const [row] = await tx
        .update(users)
        .set({ role: input.role, ...(input.name !== undefined ? { name: input.name.trim() } : {}) })
        .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, existing.id)))
        .returning();
      if (!row) throw new Error("the invited user vanished inside its transaction");
      await revokeOneTimeTokens(tx, {
        workspaceId: input.workspaceId,
        userId: existing.id,
        purpose: "invite",
      });
      user = toUser(row);
    } else {
      user = await createUser(tx, {
        workspaceId: input.workspaceId,
        email,
        role: input.role,
        name: input.name,
        status: "invited",
      });
    }
    const { token, expiresAt } = await issueOneTimeToken(tx, {
      workspaceId: input.workspaceId,
      userId: user.id,
      purpose: "invite",
    });
    await recordAudit(tx, {
      workspaceId: input.workspaceId,
      actor: input.actor,
      action: "user.invited",
      target: { kind: "user", id: user.id },
      details: { email, role: input.role, reinvite: existing !== undefined },
      ip: input.ip,
    });
    return { user, inviteUrl: `${config.publicUrl}/invite?token=${encodeURIComponent(token)}`, expiresAt };
  });
}

export type SignedIn = { user: User; workspace: Workspace; session: { token: string; expiresAt: Date } };

/** Accepts an invitation: sets the name and password, activates the user and opens a session. */
export async function acceptInvite(
  db: Db,
  input: { token: string; name: string; password: string; ip?: string | null; userAgent?: string | null },
): Promise<SignedIn> {
  // hashing is slow: do it before the transaction, which must stay short
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const { workspaceId, userId } = await consumeOneTimeToken(tx, input.token, "invite");
    const [row] = await tx
      .update(users)
      .set({ name: input.name.trim(), passwordHash, status: "active", lastSignInAt: new Date() })
      .where(and(eq(users.workspaceId, workspaceId), eq(users.id, userId), eq(users.status, "invited")))
      .returning();
    if (!row) {
      throw new AppError(
        "auth.token_invalid",
        "This invitation is no longer valid: the account was disabled or is already active.",
      );
    }
    const workspace = await getWorkspace(tx, workspaceId);
    if (!workspace) throw new AppError("auth.token_invalid", "This invitation's workspace no longer exists.");
    const session = await createSession(tx, {
      workspaceId,
      userId,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
    });
    await recordAudit(tx, {
      workspaceId,
      actor: { kind: "user", id: userId },
      action: "user.invite_accepted",
      target: { kind: "user", id: userId },
      ip: input.ip,
    });
    return { user: toUser(row), workspace, session };
  });
}

/**
 * Changes a user's role and/or disables or re-enables them. Disabling ends their sessions
 * and unused links at once. The last active owner can be neither demoted nor disabled.
 */
export async function updateUser(
  db: Db,
  input: {
    workspaceId: string;
    actor: Actor;
    userId: string;
    role?: Role | undefined;
    disabled?: boolean | undefined;
    ip?: string | null;
  },
): Promise<User> {
  assertManager(input.actor);
  if (input.role === "owner") assertMayTouchOwners(input.actor, "make owners");
  return db.transaction(async (tx) => {
    // lock the active owners first, always in id order, so two concurrent demotions cannot
    // both see the other as the remaining owner (and cannot deadlock)
    const owners = await tx
      .select({ id: users.id })
      .from(users)
      .where(
        and(eq(users.workspaceId, input.workspaceId), eq(users.role, "owner"), eq(users.status, "active")),
      )
      .orderBy(asc(users.id))
      .for("update");
    const [target] = await tx
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, input.userId)))
      .for("update")
      .limit(1);
    if (!target)
      throw new AppError("users.not_found", "No user with that id in this workspace.", {
        userId: input.userId,
      });
    if (target.role === "owner") assertMayTouchOwners(input.actor, "change or disable an owner");

    const role = input.role ?? target.role;
    let status: UserStatus = target.status;
    if (input.disabled === true) status = "disabled";
    // someone who never finished their invitation goes back to `invited`, to be invited again
    if (input.disabled === false && target.status === "disabled") {
      status = target.passwordHash || target.lastSignInAt ? "active" : "invited";
    }
    const losesOwner =
      target.role === "owner" && target.status === "active" && (role !== "owner" || status !== "active");
    if (losesOwner && !owners.some((o) => o.id !== target.id)) {
      throw new AppError(
        "users.last_owner",
        "This is the workspace's last active owner: make someone else an owner first.",
        { userId: target.id },
      );
    }
    if (role === target.role && status === target.status) return toUser(target);

    const [row] = await tx
      .update(users)
      .set({ role, status })
      .where(and(eq(users.workspaceId, input.workspaceId), eq(users.id, target.id)))
      .returning();
    if (!row) throw new Error("the user vanished inside its transaction");
    const audit = {
      workspaceId: input.workspaceId,
      actor: input.actor,
      target: { kind: "user", id: target.id },
      ip: input.ip,
    };
    if (role !== target.role) {
      await recordAudit(tx, {
        ...audit,
        action: "user.role_changed",
        details: { from: target.role, to: role },
      });
    }
    if (status === "disabled") {
      await revokeUserSessions(tx, { workspaceId: input.workspaceId, userId: target.id });
      await revokeOneTimeTokens(tx, { workspaceId: input.workspaceId, userId: target.id });
      await recordAudit(tx, { ...audit, action: "user.disabled" });
    } else if (target.status === "disabled") {
      await recordAudit(tx, { ...audit, action: "user.enabled", details: { status } });
    }
    return toUser(row);
  });
}
