import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";

// The short lists an agent's screens pick from: teams, labels in use, and the agents to assign
// or mention. Each is one statement, scoped to the workspace.

export type TeamListItem = { id: string; name: string; memberIds: string[] };

/** The workspace's teams by name, each with its members' ids. */
export async function listTeams(db: Db, workspaceId: string): Promise<TeamListItem[]> {
  return rows<TeamListItem>(
    db,
    sql`SELECT t.id::text AS id, t.name,
          COALESCE((SELECT json_agg(m.user_id::text ORDER BY m.user_id) FROM team_members m
            WHERE m.workspace_id = t.workspace_id AND m.team_id = t.id), '[]'::json) AS "memberIds"
        FROM teams t WHERE t.workspace_id = ${workspaceId} ORDER BY t.name, t.id`,
  );
}

export type LabelListItem = { name: string; count: number; open: number };

/**
 * The labels the workspace's conversations carry (merged-away ones left out), by name: how many
 * conversations carry each, and how many of those are open or pending.
 */
export async function listLabels(db: Db, workspaceId: string): Promise<LabelListItem[]> {
  return rows<LabelListItem>(
    db,
    sql`SELECT l.label AS name, count(*)::int AS count,
          count(*) FILTER (WHERE c.status IN ('open', 'pending'))::int AS open
        FROM conversations c CROSS JOIN LATERAL jsonb_array_elements_text(c.labels) AS l(label)
        WHERE c.workspace_id = ${workspaceId} AND c.merged_into_id IS NULL
        GROUP BY l.label ORDER BY l.label`,
  );
}

export type AgentListItem = {
  id: string;
  name: string;
  email: string;
  role: "owner" | "admin" | "agent";
};

/** The workspace's active members, by name: whom a conversation can be assigned to or a note can mention. */
export async function listAgents(db: Db, workspaceId: string): Promise<AgentListItem[]> {
  return rows<AgentListItem>(
    db,
    sql`SELECT id::text AS id, name, email, role FROM users
        WHERE workspace_id = ${workspaceId} AND status = 'active' ORDER BY lower(name), email, id`,
  );
}
