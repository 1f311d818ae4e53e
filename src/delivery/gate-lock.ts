import { sql } from "drizzle-orm";
import { decide, type GateDecision, windowStart } from "../consent/gate.ts";
import type { GateContext } from "../consent/gate-input.ts";
import type { Channel } from "../consent/tables.ts";
import { type Db, rows } from "../db/client.ts";
import { eachValue } from "../db/sql-lists.ts";

export type GateAsk = {
  customerId: string;
  gate: GateContext;
  channel?: Channel | undefined;
  address?: string | undefined;
};

/**
 * Runs the Gate for many requests inside `tx`, in order. Customers with marketing under caps
 * are first locked (sorted, so batches cannot deadlock) and what already counts is read after
 * the locks are held, so concurrent sends never both take a cap's last slot; a send decided
 * here counts for the requests after it in the same batch.
 */
export async function decideAllLocked(
  tx: Db,
  workspaceId: string,
  asks: readonly GateAsk[],
  now: Date,
): Promise<GateDecision[]> {
  const capped = [
    ...new Set(
      asks
        .filter((a) => a.gate.topic.kind === "marketing" && a.gate.input.caps.length > 0)
        .map((a) => a.customerId),
    ),
  ].sort();
  const recent = new Map<string, Array<{ channel: Channel; at: Date }>>();
  if (capped.length > 0) {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended('caps|' || ${workspaceId} || '|' || x.v, 0))
      FROM ${eachValue(capped)} ORDER BY x.n`);
    // a week back from the earliest local midnight any of them could need
    const since = Math.min(
      ...asks
        .filter((a) => capped.includes(a.customerId))
        .map((a) => windowStart("week", now.getTime(), a.gate.input.timezone)),
    );
    const counted = await rows<{ customerId: string; channel: Channel; at: string }>(
      tx,
      sql`SELECT d.customer_id::text AS "customerId", d.channel, d.counted_at::text AS at
          FROM ${eachValue(capped)} CROSS JOIN LATERAL (SELECT customer_id, channel, counted_at FROM deliveries
            WHERE workspace_id = ${workspaceId} AND customer_id = x.v::uuid AND counted_at IS NOT NULL
              AND counted_at >= ${new Date(since).toISOString()}::timestamptz) AS d`,
    );
    for (const c of counted) {
      const list = recent.get(c.customerId) ?? [];
      list.push({ channel: c.channel, at: new Date(c.at) });
      recent.set(c.customerId, list);
    }
  }
  return asks.map((a) => {
    const mine = recent.get(a.customerId) ?? [];
    const d = decide({
      ...a.gate.input,
      now,
      recent: mine,
      requestedChannel: a.channel,
      requestedAddress: a.address,
    });
    if (d.action === "send" && a.gate.topic.kind === "marketing") {
      mine.push({ channel: d.channel, at: now });
      recent.set(a.customerId, mine);
    }
    return d;
  });
}

/** `decideAllLocked` for one request. */
export async function decideLocked(
  tx: Db,
  workspaceId: string,
  customerId: string,
  gate: GateContext,
  requestedChannel: Channel | undefined,
  now: Date,
  requestedAddress?: string,
): Promise<GateDecision> {
  const [d] = await decideAllLocked(
    tx,
    workspaceId,
    [{ customerId, gate, channel: requestedChannel, address: requestedAddress }],
    now,
  );
  if (!d) throw new Error("no decision");
  return d;
}
