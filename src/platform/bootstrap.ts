import { and, asc, eq, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { isAppError } from "../errors.ts";
import { recordAudit } from "./audit.ts";
import { hashPassword } from "./passwords.ts";
import { createSignInLink } from "./sign-in.ts";
import { users, workspaces } from "./tables.ts";
import { createUser, normalizeEmail, toUser, type User } from "./users.ts";
import { createWorkspace, type Workspace } from "./workspaces.ts";

// `rapport login-link` and the first start both make links; they live with sign-in
export { createSignInLink };

/** The first owner's email when RAPPORT_ADMIN_EMAIL is not set: a placeholder that only signs in by link. */
export const DEFAULT_ADMIN_EMAIL = "admin@localhost";
// any constant works; it only has to be the same in every process of one installation
const BOOTSTRAP_LOCK = 7_251_438;

export type BootstrapConfig = Pick<Config, "publicUrl" | "workspaceName" | "adminEmail" | "adminPassword">;

export type BootstrapResult = {
  /** True when this call created the workspace (the database had none). */
  created: boolean;
  workspace: Workspace;
  /** The owner this call created or found (RAPPORT_ADMIN_EMAIL's user, else the first active owner). */
  owner: User | null;
  ownerCreated: boolean;
  /** A single-use sign-in link, when this call created an owner without a password. */
  signInUrl?: string;
  signInExpiresAt?: Date;
};

/**
 * Prepares a database on first start: with no workspace at all, creates one and its first
 * owner (with RAPPORT_ADMIN_PASSWORD if set, else a sign-in link to print). On a database
 * that has a workspace it only adds RAPPORT_ADMIN_EMAIL's owner if that email is not a
 * member yet. Safe to run from several processes at once: they take turns on a
 * transaction-scoped advisory lock, and a unique-key conflict re-runs the check.
 */
export async function bootstrap(db: Db, config: BootstrapConfig): Promise<BootstrapResult> {
  const passwordHash = config.adminPassword ? await hashPassword(config.adminPassword) : null;
  try {
    return await bootstrapOnce(db, config, passwordHash);
  } catch (err) {
    // only reachable if something else inserted the same rows without taking the lock
    if (isAppError(err, "workspaces.already_exists") || isAppError(err, "users.already_exists")) {
      return bootstrapOnce(db, config, passwordHash);
    }
    throw err;
  }
}

async function bootstrapOnce(
  db: Db,
  config: BootstrapConfig,
  passwordHash: string | null,
): Promise<BootstrapResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    const system = { kind: "system" } as const;
    let [workspace] = await tx
      .select()
      .from(workspaces)
      .orderBy(asc(workspaces.createdAt), asc(workspaces.id))
      .limit(1);
    let created = false;
    if (!workspace) {
      workspace = await createWorkspace(tx, { name: config.workspaceName });
      created = true;
      await recordAudit(tx, {
        workspaceId: workspace.id,
        actor: system,
        action: "workspace.created",
        target: { kind: "workspace", id: workspace.id },
        details: { name: workspace.name, slug: workspace.slug },
      });
    }
    const email = config.adminEmail ?? (created ? DEFAULT_ADMIN_EMAIL : undefined);
    if (!email) {
      const [owner] = await tx
        .select()
        .from(users)
        .where(and(eq(users.workspaceId, workspace.id), eq(users.role, "owner"), eq(users.status, "active")))
        .orderBy(asc(users.id))
        .limit(1);
      return { created, workspace, owner: owner ? toUser(owner) : null, ownerCreated: false };
    }
    const [existing] = await tx
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspace.id), eq(users.email, normalizeEmail(email))))
      .limit(1);
    // an existing member keeps their role and password: the environment does not overrule the workspace
    if (existing) return { created, workspace, owner: toUser(existing), ownerCreated: false };

    const owner = await createUser(tx, {
      workspaceId: workspace.id,
      email,
      role: "owner",
      status: "active",
      name: "Owner",
      passwordHash,
    });
    await recordAudit(tx, {
      workspaceId: workspace.id,
      actor: system,
      action: "user.created",
      target: { kind: "user", id: owner.id },
      details: { email: owner.email, role: "owner", via: "bootstrap", password: passwordHash !== null },
    });
    if (passwordHash) return { created, workspace, owner, ownerCreated: true };
    // a savepoint inside this transaction: the link exists only if the owner does
    const link = await createSignInLink(tx, config, { workspaceId: workspace.id, userId: owner.id });
    return {
      created,
      workspace,
      owner,
      ownerCreated: true,
      signInUrl: link.url,
      signInExpiresAt: link.expiresAt,
    };
  });
}
