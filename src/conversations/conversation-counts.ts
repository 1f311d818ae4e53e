import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import type { ConversationStatus } from "./tables.ts";
import { readJoin, UNREAD } from "./unread.ts";

/** Open and pending conversations in one bucket of the inbox's sidebar. */
export type OpenCount = { open: number; pending: number };

/** What the inbox's sidebar shows beside each view, inbox, team, label and status. */
export type ConversationCounts = {
  /** `mine` is null without a signed-in agent (a secret key has no conversations of its own). */
  views: { mine: OpenCount | null; unassigned: OpenCount; all: OpenCount };
  inboxes: Array<{ inboxId: string } & OpenCount>;
  teams: Array<{ teamId: string } & OpenCount>;
  labels: Array<{ label: string } & OpenCount>;
  /** Every status, resolved included, merged-away conversations left out. */
  statuses: Record<ConversationStatus, number>;
  /**
   * Open and pending conversations of each view the viewing agent has unread; only when asked
   * for (`unread: true`). `mine` is null without a signed-in agent.
   */
  unread?: { mine: number | null; unassigned: number; all: number };
};

const OPEN_UNREAD = sql`c.status IN ('open', 'pending') AND ${UNREAD}`;

type GroupRow = {
  g: number;
  inboxId: string | null;
  teamId: string | null;
  status: ConversationStatus | null;
  total: number;
  open: number;
  pending: number;
  mineOpen: number;
  minePending: number;
  unassignedOpen: number;
  unassignedPending: number;
  mineUnread: number;
  unassignedUnread: number;
  allUnread: number;
};

/**
 * Counts for the agent's sidebar in two statements: one pass over the workspace's
 * conversations grouped by grouping sets (views, inboxes, teams, statuses), one over labels.
 * With `unread`, the same pass also counts each view's conversations the viewer has unread.
 */
export async function conversationCounts(
  db: Db,
  workspaceId: string,
  viewer?: { userId: string },
  opts: { unread?: boolean } = {},
): Promise<ConversationCounts> {
  const me = viewer?.userId ?? null;
  // GROUPING() sets a bit per column left out of the set: 7 = (), 3 = inbox, 5 = team, 6 = status
  const groups = await rows<GroupRow>(
    db,
    sql`SELECT GROUPING(c.inbox_id, c.team_id, c.status)::int AS g,
          c.inbox_id::text AS "inboxId", c.team_id::text AS "teamId", c.status,
          count(*)::int AS total,
          count(*) FILTER (WHERE c.status = 'open')::int AS open,
          count(*) FILTER (WHERE c.status = 'pending')::int AS pending,
          count(*) FILTER (WHERE c.status = 'open' AND c.assignee_id = ${me}::uuid)::int AS "mineOpen",
          count(*) FILTER (WHERE c.status = 'pending' AND c.assignee_id = ${me}::uuid)::int AS "minePending",
          count(*) FILTER (WHERE c.status = 'open' AND c.assignee_id IS NULL)::int AS "unassignedOpen",
          count(*) FILTER (WHERE c.status = 'pending' AND c.assignee_id IS NULL)::int AS "unassignedPending"
          ${
            opts.unread
              ? sql`, count(*) FILTER (WHERE ${OPEN_UNREAD} AND c.assignee_id = ${me}::uuid)::int AS "mineUnread",
                count(*) FILTER (WHERE ${OPEN_UNREAD} AND c.assignee_id IS NULL)::int AS "unassignedUnread",
                count(*) FILTER (WHERE ${OPEN_UNREAD})::int AS "allUnread"`
              : sql``
          }
        FROM conversations c ${opts.unread ? readJoin(viewer) : sql``}
        WHERE c.workspace_id = ${workspaceId} AND c.merged_into_id IS NULL
        GROUP BY GROUPING SETS ((), (c.inbox_id), (c.team_id), (c.status))`,
  );
  const labels = await rows<{ label: string } & OpenCount>(
    db,
    sql`SELECT l.label, count(*) FILTER (WHERE c.status = 'open')::int AS open,
          count(*) FILTER (WHERE c.status = 'pending')::int AS pending
        FROM conversations c CROSS JOIN LATERAL jsonb_array_elements_text(c.labels) AS l(label)
        WHERE c.workspace_id = ${workspaceId} AND c.status IN ('open', 'pending')
        GROUP BY l.label ORDER BY l.label`,
  );
  const total = groups.find((r) => r.g === 7);
  const open = (r: GroupRow) => r.open + r.pending > 0;
  const statuses: Record<ConversationStatus, number> = { open: 0, pending: 0, snoozed: 0, resolved: 0 };
  for (const r of groups) if (r.g === 6 && r.status) statuses[r.status] = r.total;
  return {
    views: {
      mine: viewer ? { open: total?.mineOpen ?? 0, pending: total?.minePending ?? 0 } : null,
      unassigned: { open: total?.unassignedOpen ?? 0, pending: total?.unassignedPending ?? 0 },
      all: { open: total?.open ?? 0, pending: total?.pending ?? 0 },
    },
    inboxes: groups
      .flatMap((r) =>
        r.g === 3 && r.inboxId && open(r) ? [{ inboxId: r.inboxId, open: r.open, pending: r.pending }] : [],
      )
      .sort((a, b) => a.inboxId.localeCompare(b.inboxId)),
    // conversations of no team are in the views' counts; a team bucket names a team
    teams: groups
      .flatMap((r) =>
        r.g === 5 && r.teamId && open(r) ? [{ teamId: r.teamId, open: r.open, pending: r.pending }] : [],
      )
      .sort((a, b) => a.teamId.localeCompare(b.teamId)),
    labels,
    statuses,
    ...(opts.unread
      ? {
          unread: {
            mine: viewer ? (total?.mineUnread ?? 0) : null,
            unassigned: total?.unassignedUnread ?? 0,
            all: total?.allUnread ?? 0,
          },
        }
      : {}),
  };
}
