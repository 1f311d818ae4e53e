import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, preparedRows, rows } from "../db/client.ts";
import { eachValue } from "../db/sql-lists.ts";
import { uuidv7 } from "../ids.ts";
import { defineTask, enqueue } from "../jobs/index.ts";
import { appendEvents, ingestEvents, isPlainEvent, knownCustomer } from "./ingest.ts";
import {
  fromStored,
  type NormalizedEvent,
  normalizeEvent,
  type StoredEvent,
  toStored,
} from "./normalize-event.ts";
import { lookupOwners } from "./owner-cache.ts";

export type AcceptContext = { receivedAt: Date; batchSentAt?: Date | undefined; defaultCountry: string };

export type AcceptResult = {
  /** Valid events, durably queued to be stored (a replayed `messageId` is then stored once). */
  accepted: number;
  rejected: Array<{ index: number; messageId: string | null; code: string; message: string }>;
};

const INGEST_QUEUE = "ingest";
// about 2,000 events per fold: big enough to amortise each statement, small enough to stay short
const ROWS_PER_FOLD = 20;
const CLAIM_SECONDS = 120;
/**
 * How many folds of one workspace may be queued or running at once. Each accepted batch asks
 * for a fold under one of these dedupe keys, so a busy workspace costs a handful of jobs, not
 * one per request, and its folds still run side by side.
 */
const FOLD_SLOTS = 2;
const FOLD_REQUEST_MS = 100;

/** Folds a workspace's queued batches into customers and events (see `foldInbox`). */
export const ingestTask = defineTask({
  name: "profiles.ingest",
  queue: INGEST_QUEUE,
  schema: z.object({ workspaceId: z.uuid() }),
  maxAttempts: 25,
  handler: async (payload, job) => {
    await foldInbox(job.db, payload.workspaceId, { signal: job.signal });
  },
});

/**
 * Validates raw Segment events and queues the valid ones, answering which were rejected and
 * why: one bad event never costs the rest of its batch. Once this returns, the batch is
 * durably queued: a fold job folds it in soon, and the sweep does if that request was lost.
 */
export async function acceptEvents(
  db: Db,
  workspaceId: string,
  raws: unknown[],
  ctx: AcceptContext,
): Promise<AcceptResult> {
  const rejected: AcceptResult["rejected"] = [];
  const valid: NormalizedEvent[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of raws.entries()) {
    const r = normalizeEvent(raw, ctx);
    if (r.ok) {
      // a messageId repeated inside one batch is one event
      if (!seen.has(r.event.messageId)) valid.push(r.event);
      seen.add(r.event.messageId);
    } else {
      const messageId =
        typeof raw === "object" && raw !== null && "messageId" in raw && typeof raw.messageId === "string"
          ? raw.messageId
          : null;
      rejected.push({ index, messageId, code: r.code, message: r.message });
    }
  }
  if (valid.length === 0) return { accepted: 0, rejected };
  // Plain events (no traits, no group) of customers we already know go straight onto the
  // timeline; the rest (a new identifier, two customers to join, an alias, traits to merge)
  // wait in the inbox, where a fold resolves and stores many batches at a time.
  const owner = await lookupOwners(
    db,
    workspaceId,
    valid.flatMap((e) => (isPlainEvent(e) ? e.identifiers : [])),
  );
  const direct: NormalizedEvent[] = [];
  const directCustomers: string[] = [];
  const queued: StoredEvent[] = [];
  for (const e of valid) {
    const known = isPlainEvent(e) ? knownCustomer(e, owner) : null;
    if (known === null) queued.push(toStored(e));
    else {
      direct.push(e);
      directCustomers.push(known);
    }
  }
  // the two writes are independent: on a server they go over two connections side by side
  await Promise.all([
    queued.length > 0 ? enqueueBatch(db, workspaceId, queued, ctx) : null,
    direct.length > 0 ? appendEvents(db, workspaceId, direct, (i) => directCustomers[i] ?? "") : null,
  ]);
  return { accepted: raws.length - rejected.length, rejected };
}

/**
 * Queues events for a fold in one autocommitted row: the row is the durable work item, so the
 * request holds no lock another request could queue behind (a transactional NOTIFY would
 * serialise commits).
 */
async function enqueueBatch(db: Db, workspaceId: string, events: StoredEvent[], ctx: AcceptContext) {
  await preparedRows(
    db,
    sql`INSERT INTO ingest_batches (workspace_id, id, events, event_count, received_at, sent_at)
    VALUES (${workspaceId}, ${uuidv7()}, ${JSON.stringify(events)}, ${events.length},
      ${ctx.receivedAt.toISOString()}::timestamptz, ${ctx.batchSentAt?.toISOString() ?? null}::timestamptz)`,
  );
  await askForFold(db, workspaceId);
}

/**
 * Asks for a fold of the workspace unless one is already queued or running in the chosen
 * slot. A batch committed just as a running fold finished its last look waits for the next
 * request or the sweep (`ingestSweepTask`); it is never lost, since its row is the work item.
 */
async function requestFold(db: Db, workspaceId: string): Promise<void> {
  const slot = Math.floor(Math.random() * FOLD_SLOTS);
  await enqueue(db, {
    task: ingestTask,
    payload: { workspaceId },
    workspaceId,
    dedupeKey: `ingest:${workspaceId}:${slot}`,
  });
}

const lastAsked = new Map<string, number>();
const trailing = new Set<string>();

/**
 * Throttled `requestFold`: at once for the first batch, then at most every FOLD_REQUEST_MS
 * per workspace and process, with a trailing request so the last batch of a burst is folded
 * without waiting for the sweep.
 */
async function askForFold(db: Db, workspaceId: string): Promise<void> {
  const now = Date.now();
  const last = lastAsked.get(workspaceId) ?? 0;
  if (now - last >= FOLD_REQUEST_MS) {
    lastAsked.set(workspaceId, now);
    if (lastAsked.size > 10_000) lastAsked.clear();
    await requestFold(db, workspaceId);
    return;
  }
  if (trailing.has(workspaceId)) return;
  trailing.add(workspaceId);
  setTimeout(
    () => {
      trailing.delete(workspaceId);
      lastAsked.set(workspaceId, Date.now());
      // best effort: if the database is gone, the sweep asks again
      requestFold(db, workspaceId).catch(() => {});
    },
    FOLD_REQUEST_MS - (now - last),
  ).unref();
}

/** Every few seconds: asks for folds of workspaces whose queued batches nobody is folding. */
export const ingestSweepTask = defineTask({
  name: "profiles.ingest_sweep",
  queue: INGEST_QUEUE,
  schema: z.object({}),
  maxAttempts: 1,
  handler: async (_payload, job) => {
    const waiting = await rows<{ w: string }>(
      job.db,
      sql`SELECT DISTINCT workspace_id::text AS w FROM ingest_batches
          WHERE (claimed_until IS NULL OR claimed_until < now()) AND created_at < now() - interval '2 seconds'`,
    );
    for (const { w } of waiting) await requestFold(job.db, w);
  },
});

export const ingestSweepSchedule = {
  name: "profiles.ingest_sweep",
  cron: "*/10 * * * * *",
  task: ingestSweepTask,
  payload: {},
};

// received_at and sent_at stay on the row for operators; each stored event carries its own
type ClaimedRow = { id: string; events: string };
type Claimed = Omit<ClaimedRow, "events"> & { events: StoredEvent[] };

/**
 * Folds queued batches of one workspace into customers and events, oldest first, many
 * batches per transaction, until none is left. Several folders may run at once: each claims
 * its own rows (SKIP LOCKED, with an expiring claim, so a crashed folder's rows come back).
 * The events are stored and the rows deleted in one transaction; a fold that dies midway is
 * redone, and a `messageId` already stored is skipped.
 */
export async function foldInbox(
  db: Db,
  workspaceId: string,
  /** `untilEmpty`: also wait for batches another folder holds (tests, the demo loader). */
  opts: { signal?: AbortSignal; untilEmpty?: boolean } = {},
): Promise<{ batches: number; stored: number; duplicates: number }> {
  const total = { batches: 0, stored: 0, duplicates: 0 };
  for (;;) {
    if (opts.signal?.aborted) return total;
    const claimedRows = await preparedRows<ClaimedRow>(
      db,
      sql`UPDATE ingest_batches SET claimed_until = now() + make_interval(secs => ${CLAIM_SECONDS})
          WHERE workspace_id = ${workspaceId} AND id IN (
            SELECT id FROM ingest_batches WHERE workspace_id = ${workspaceId}
              AND (claimed_until IS NULL OR claimed_until < now())
            ORDER BY id LIMIT ${ROWS_PER_FOLD} FOR UPDATE SKIP LOCKED)
          RETURNING id::text AS id, events`,
    );
    if (claimedRows.length === 0) {
      if (!opts.untilEmpty) return total;
      const [left] = await rows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = ${workspaceId}`,
      );
      if (!left?.n) return total;
      await new Promise((r) => setTimeout(r, 25));
      continue;
    }
    const claimed: Claimed[] = claimedRows
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((c) => ({ ...c, events: parseStored(c.events) }));
    const events = await normalizeClaimed(db, workspaceId, claimed);
    const ids = claimed.map((c) => c.id);
    const r = await ingestEvents(db, workspaceId, events, async (tx) => {
      await preparedRows(
        tx,
        sql`DELETE FROM ingest_batches WHERE ctid = ANY(ARRAY(SELECT t.ctid FROM ${eachValue(ids)}
          CROSS JOIN LATERAL (SELECT ctid FROM ingest_batches
            WHERE workspace_id = ${workspaceId} AND id = x.v::uuid) AS t))`,
      );
    });
    total.batches += claimed.length;
    total.stored += r.stored;
    total.duplicates += r.duplicates;
  }
}

/** The stored events of a batch (we wrote them; anything else is a bug worth stopping on). */
function parseStored(text: string): StoredEvent[] {
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v)) throw new Error("an ingest batch does not hold a JSON array");
  // written by acceptEvents from validated events, so read back without a second validation
  return v as StoredEvent[];
}

/** Revives claimed events, now with what the database says of alias previous ids. */
async function normalizeClaimed(db: Db, workspaceId: string, claimed: Claimed[]): Promise<NormalizedEvent[]> {
  const previousIds = claimed.flatMap((c) =>
    c.events.flatMap((e) => (e.previousId === null ? [] : [e.previousId])),
  );
  const knownUsers = new Set<string>();
  if (previousIds.length > 0) {
    const found = await rows<{ value: string }>(
      db,
      sql`SELECT i.value FROM ${eachValue(new Set(previousIds))}
          CROSS JOIN LATERAL (SELECT value FROM identities
            WHERE workspace_id = ${workspaceId} AND kind = 'user_id' AND value = x.v) AS i`,
    );
    for (const f of found) knownUsers.add(f.value);
  }
  const known = (v: string) => knownUsers.has(v);
  return claimed.flatMap((c) => c.events.map((e) => fromStored(e, known)));
}

/** Folds every workspace's queued batches now (tests, the demo loader, and a drained shutdown). */
export async function foldAllInboxes(db: Db): Promise<number> {
  const pending = await rows<{ w: string }>(
    db,
    sql`SELECT DISTINCT workspace_id::text AS w FROM ingest_batches`,
  );
  let stored = 0;
  for (const { w } of pending) stored += (await foldInbox(db, w, { untilEmpty: true })).stored;
  return stored;
}
