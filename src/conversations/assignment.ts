import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";

export const AVAILABILITY = ["online", "busy", "offline"] as const;
export type Availability = (typeof AVAILABILITY)[number];

/** Sets whether an agent takes new conversations (online), is busy, or is away. */
export async function setAvailability(
  db: Db,
  workspaceId: string,
  userId: string,
  status: Availability,
): Promise<void> {
  const parsed = z.enum(AVAILABILITY).safeParse(status);
  if (!parsed.success) {
    throw new AppError(
      "conversations.invalid_availability",
      `Availability must be one of ${AVAILABILITY.join(", ")}.`,
    );
  }
  await db.execute(sql`INSERT INTO agent_availability (workspace_id, user_id, status, updated_at)
    VALUES (${workspaceId}, ${userId}, ${parsed.data}, now())
    ON CONFLICT (workspace_id, user_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()`);
}

/** Every active member's availability (offline for those who never said). */
export async function listAvailability(
  db: Db,
  workspaceId: string,
): Promise<Array<{ userId: string; name: string; status: Availability; openConversations: number }>> {
  return rows(
    db,
    sql`SELECT u.id::text AS "userId", u.name, COALESCE(a.status, 'offline') AS status,
          (SELECT count(*)::int FROM conversations c WHERE c.workspace_id = u.workspace_id AND c.assignee_id = u.id
            AND c.status IN ('open', 'pending')) AS "openConversations"
        FROM users u LEFT JOIN agent_availability a ON a.workspace_id = u.workspace_id AND a.user_id = u.id
        WHERE u.workspace_id = ${workspaceId} AND u.status = 'active' ORDER BY u.name, u.id`,
  );
}

/** Creates a team. */
export async function createTeam(
  db: Db,
  workspaceId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > 80) {
    throw new AppError("conversations.invalid_team", "A team needs a name of 1 to 80 characters.");
  }
  const id = uuidv7();
  const inserted = await rows<{ id: string }>(
    db,
    sql`INSERT INTO teams (workspace_id, id, name) VALUES (${workspaceId}, ${id}, ${clean})
        ON CONFLICT DO NOTHING RETURNING id::text AS id`,
  );
  if (inserted.length === 0)
    throw new AppError("conversations.team_already_exists", `A team named "${clean}" exists already.`);
  return { id, name: clean };
}

/** Replaces a team's members with these active users of the workspace. */
export async function setTeamMembers(
  db: Db,
  workspaceId: string,
  teamId: string,
  userIds: string[],
): Promise<void> {
  if (!isUuid(teamId))
    throw new AppError("conversations.invalid_id", `"${teamId}" is not a team id (a UUID).`);
  const wanted = [...new Set(userIds)];
  for (const u of wanted)
    if (!isUuid(u)) throw new AppError("conversations.invalid_id", `"${u}" is not a user id (a UUID).`);
  await db.transaction(async (tx) => {
    const [team] = await rows<{ id: string }>(
      tx,
      sql`SELECT id::text AS id FROM teams WHERE workspace_id = ${workspaceId} AND id = ${teamId} FOR UPDATE`,
    );
    if (!team) throw new AppError("conversations.team_not_found", "No team with that id in this workspace.");
    const found = await rows<{ id: string }>(
      tx,
      sql`SELECT id::text AS id FROM users WHERE workspace_id = ${workspaceId} AND status = 'active'
          AND id IN (SELECT jsonb_array_elements_text(${JSON.stringify(wanted)}::jsonb)::uuid)`,
    );
    const missing = wanted.filter((u) => !found.some((f) => f.id === u));
    if (missing.length > 0) {
      throw new AppError("conversations.user_not_found", `No active user ${missing[0]} in this workspace.`, {
        missing,
      });
    }
    await tx.execute(
      sql`DELETE FROM team_members WHERE workspace_id = ${workspaceId} AND team_id = ${teamId}`,
    );
    if (wanted.length > 0) {
      await tx.execute(sql`INSERT INTO team_members (workspace_id, team_id, user_id)
        SELECT ${workspaceId}, ${teamId}, u::uuid FROM jsonb_array_elements_text(${JSON.stringify(wanted)}::jsonb) AS u`);
    }
  });
}

/**
 * Picks the agent for a new conversation of an inbox, inside the transaction that opens it:
 * among the online active agents (of the inbox's team, if it has one), round robin gives it to
 * whoever got one longest ago, least loaded to whoever holds the fewest open conversations.
 * The chosen agent's row is locked, so two conversations opened at once go to two agents.
 * Undefined when the inbox is manual or nobody is online.
 */
export async function pickAssignee(
  tx: Db,
  workspaceId: string,
  inbox: { assignment: "manual" | "round_robin" | "least_loaded"; teamId: string | null },
): Promise<string | undefined> {
  if (inbox.assignment === "manual") return undefined;
  const [chosen] = await rows<{ userId: string }>(
    tx,
    sql`SELECT a.user_id::text AS "userId" FROM agent_availability a
        JOIN users u ON u.workspace_id = a.workspace_id AND u.id = a.user_id AND u.status = 'active'
        WHERE a.workspace_id = ${workspaceId} AND a.status = 'online'
          ${
            inbox.teamId
              ? sql`AND EXISTS (SELECT 1 FROM team_members m WHERE m.workspace_id = a.workspace_id
            AND m.team_id = ${inbox.teamId} AND m.user_id = a.user_id)`
              : sql``
          }
        ORDER BY ${
          inbox.assignment === "least_loaded"
            ? sql`(SELECT count(*) FROM conversations c WHERE c.workspace_id = a.workspace_id
                AND c.assignee_id = a.user_id AND c.status IN ('open', 'pending')),`
            : sql``
        } a.last_assigned_at NULLS FIRST, a.user_id
        LIMIT 1 FOR UPDATE OF a`,
  );
  if (!chosen) return undefined;
  await tx.execute(sql`UPDATE agent_availability SET last_assigned_at = clock_timestamp()
    WHERE workspace_id = ${workspaceId} AND user_id = ${chosen.userId}`);
  return chosen.userId;
}
