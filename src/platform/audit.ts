import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { uuidv7 } from "../ids.ts";
import { auditLog } from "./tables.ts";

/** Who did it: a signed-in user, an API key, or Rapport itself (bootstrap, anonymous sign-in attempts). */
export type AuditActor = { kind: "user"; id: string } | { kind: "api_key"; id: string } | { kind: "system" };

export type AuditEntry = typeof auditLog.$inferSelect;

export type AuditInput = {
  workspaceId: string;
  actor: AuditActor;
  action: string;
  target?: { kind: string; id: string } | undefined;
  details?: Record<string, unknown> | undefined;
  ip?: string | null | undefined;
};

/**
 * Appends one entry. Pass the transaction that makes the change, so the entry exists if and
 * only if the change does.
 */
export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  await db.insert(auditLog).values({
    workspaceId: input.workspaceId,
    // a UUIDv7 orders entries by time, so pagination can use the primary key alone
    id: uuidv7(),
    actorKind: input.actor.kind,
    actorId: input.actor.kind === "system" ? null : input.actor.id,
    action: input.action,
    targetKind: input.target?.kind ?? null,
    targetId: input.target?.id ?? null,
    details: input.details ?? {},
    ip: input.ip ?? null,
    createdAt: new Date(),
  });
}

/**
 * A page of the workspace's audit log, newest first. `before` is the cursor: the id of the
 * last entry of the previous page; `nextCursor` is undefined on the last page.
 */
export async function listAudit(
  db: Db,
  workspaceId: string,
  opts: { limit?: number; before?: string | undefined; action?: string | undefined } = {},
): Promise<{ entries: AuditEntry[]; nextCursor: string | undefined }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const found = await db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.workspaceId, workspaceId),
        opts.before ? lt(auditLog.id, opts.before) : undefined,
        opts.action ? eq(auditLog.action, opts.action) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const entries = found.slice(0, limit);
  const last = entries.at(-1);
  return { entries, nextCursor: found.length > limit && last ? last.id : undefined };
}
