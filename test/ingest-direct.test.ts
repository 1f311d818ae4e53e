import { sql } from "drizzle-orm";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { uuidv7 } from "../src/ids.ts";
import { customerTimeline, findByIdentifier, getCustomer } from "../src/profiles/customers.ts";
import { acceptEvents, foldInbox } from "../src/profiles/inbox.ts";
import { appendEvents } from "../src/profiles/ingest.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { normalizeEvent } from "../src/profiles/normalize-event.ts";
import { createTestWorkspace } from "./support/factories.ts";

// Plain events (track, page, screen) of customers Rapport already knows skip the inbox and are
// on the timeline when the request returns; everything else waits for a fold.

let db: Db;
let n = 0;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

const ctx = () => ({ receivedAt: new Date(), defaultCountry: "US" });

async function accept(ws: string, ...events: Array<Record<string, unknown>>) {
  return acceptEvents(
    db,
    ws,
    events.map((e) => ({ messageId: `d-${++n}`, ...e })),
    ctx(),
  );
}

async function queued(ws: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    sql`SELECT coalesce(sum(event_count), 0)::int AS n FROM ingest_batches WHERE workspace_id = ${ws}`,
  );
  return r?.n ?? 0;
}

async function timelineNames(ws: string, customerId: string): Promise<string[]> {
  const t = await customerTimeline(db, ws, customerId, { limit: 50 });
  return t.data.map((e) => e.name ?? e.type).sort();
}

describe("events of known customers", () => {
  it("are on the timeline when accepted, while new people and traits wait for the fold", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await accept(ws, { type: "identify", userId: "u-1", traits: { email: "one@example.com" } });
    expect(await queued(ws)).toBe(1);
    await foldInbox(db, ws, { untilEmpty: true });
    const c = (await findByIdentifier(db, ws, "user_id", "u-1", "US"))?.id;
    expect(c).toBeDefined();

    const r = await accept(
      ws,
      { type: "track", userId: "u-1", event: "Song Played" },
      { type: "page", userId: "u-1", name: "Home" },
      // a new person, and traits to merge: both wait for the fold
      { type: "track", userId: "u-2", event: "Song Played" },
      { type: "identify", userId: "u-1", traits: { plan: "premium" } },
    );
    expect(r).toEqual({ accepted: 4, rejected: [] });
    expect(await queued(ws)).toBe(2);
    expect(await timelineNames(ws, c!)).toEqual(["Home", "Song Played", "identify"]);

    await foldInbox(db, ws, { untilEmpty: true });
    expect(await timelineNames(ws, c!)).toEqual(["Home", "Song Played", "identify", "identify"]);
    expect((await getCustomer(db, ws, c!))?.traits).toMatchObject({ plan: "premium" });
  });

  it("stores a replayed plain event once", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await accept(ws, { type: "track", userId: "u-r", event: "First" });
    await foldInbox(db, ws, { untilEmpty: true });
    const c = (await findByIdentifier(db, ws, "user_id", "u-r", "US"))?.id;
    const again = { type: "track", userId: "u-r", event: "Again", messageId: "replayed" };
    await acceptEvents(db, ws, [again, again], ctx());
    await acceptEvents(db, ws, [again], ctx());
    expect(await queued(ws)).toBe(0);
    expect(await timelineNames(ws, c!)).toEqual(["Again", "First"]);
  });

  it("store the new events of a batch that also replays one, and count the replay", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await accept(ws, { type: "track", userId: "u-mix", event: "First", messageId: "mix-1" });
    await foldInbox(db, ws, { untilEmpty: true });
    const c = (await findByIdentifier(db, ws, "user_id", "u-mix", "US"))?.id;
    const events = ["mix-2", "mix-1", "mix-3"].map((messageId, i) => {
      const r = normalizeEvent({ type: "track", userId: "u-mix", event: `E${i}`, messageId }, ctx());
      if (!r.ok) throw new Error(r.message);
      return r.event;
    });
    // the first try without ON CONFLICT meets mix-1 and stores nothing; the replay stores the rest
    const result = await appendEvents(db, ws, events, () => c!);
    expect(result).toEqual({ stored: 2, duplicates: 1, customerIds: [c] });
    expect(await timelineNames(ws, c!)).toEqual(["E0", "E2", "First"]);
    const again = await appendEvents(db, ws, events, () => c!);
    expect(again).toEqual({ stored: 0, duplicates: 3, customerIds: [c] });
  });

  it("follow a merge that happened after their customer was looked up", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await accept(ws, { type: "track", anonymousId: "anon-m", event: "Visited" });
    await accept(ws, { type: "identify", userId: "u-m", traits: { email: "m@example.com" } });
    await foldInbox(db, ws, { untilEmpty: true });
    const anon = (await findByIdentifier(db, ws, "anonymous_id", "anon-m", "US"))?.id;
    const known = (await findByIdentifier(db, ws, "user_id", "u-m", "US"))?.id;
    expect(anon).not.toBe(known);
    // this process now remembers anon-m as the anonymous customer's
    await accept(ws, { type: "page", anonymousId: "anon-m", name: "Pricing" });
    expect(await queued(ws)).toBe(0);

    await mergeCustomers(db, ws, { survivorId: known!, mergedId: anon!, actor: "test" });
    await accept(ws, { type: "track", anonymousId: "anon-m", event: "After Merge" });
    await foldInbox(db, ws, { untilEmpty: true });
    expect(await timelineNames(ws, known!)).toEqual(["After Merge", "Pricing", "Visited", "identify"]);
    const [stray] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${ws} AND customer_id = ${anon!}`,
    );
    expect(stray?.n).toBe(0);
  });

  it("are resolved again when the customer they were given does not exist", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await accept(ws, { type: "track", userId: "u-g", event: "First" });
    await foldInbox(db, ws, { untilEmpty: true });
    const c = (await findByIdentifier(db, ws, "user_id", "u-g", "US"))?.id;
    const r = normalizeEvent(
      { type: "track", userId: "u-g", event: "Second", messageId: `d-${++n}` },
      { ...ctx(), batchSentAt: undefined },
    );
    if (!r.ok) throw new Error(r.message);
    const result = await appendEvents(db, ws, [r.event], () => uuidv7());
    expect(result.stored).toBe(1);
    expect(result.customerIds).toEqual([c]);
    expect(await timelineNames(ws, c!)).toEqual(["First", "Second"]);
  });

  // Needs two sessions that block each other, which only PostgreSQL has (PGlite runs one).
  it.skipIf(!testDatabaseUrl())(
    "wait for a merge of their customer in flight, then land on the survivor",
    async () => {
      const ws = (await createTestWorkspace()).workspace.id;
      await accept(ws, { type: "track", anonymousId: "anon-w", event: "Visited" });
      await accept(ws, { type: "identify", userId: "u-w", traits: { email: "w@example.com" } });
      await foldInbox(db, ws, { untilEmpty: true });
      const anon = (await findByIdentifier(db, ws, "anonymous_id", "anon-w", "US"))?.id;
      const known = (await findByIdentifier(db, ws, "user_id", "u-w", "US"))?.id;
      // remember anon-w's owner in this process
      await accept(ws, { type: "page", anonymousId: "anon-w", name: "Pricing" });

      // another session merges the anonymous customer away, not yet committed
      const other = new pg.Client({ connectionString: testDatabaseUrl() });
      await other.connect();
      await other.query("BEGIN");
      await other.query(
        "SELECT id FROM customers WHERE workspace_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE",
        [ws, [anon, known]],
      );
      await other.query("UPDATE events SET customer_id = $3 WHERE workspace_id = $1 AND customer_id = $2", [
        ws,
        anon,
        known,
      ]);
      await other.query(
        "UPDATE identities SET customer_id = $3 WHERE workspace_id = $1 AND customer_id = $2",
        [ws, anon, known],
      );
      await other.query("UPDATE customers SET merged_into = $3 WHERE workspace_id = $1 AND id = $2", [
        ws,
        anon,
        known,
      ]);

      const during = accept(ws, { type: "track", anonymousId: "anon-w", event: "During Merge" });
      for (let i = 0; i < 50; i++) {
        const waiting = await other.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'rapport-test'",
        );
        if (waiting.rows[0]?.n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await other.query("COMMIT");
      await other.end();
      await during;
      await foldInbox(db, ws, { untilEmpty: true });

      expect(await timelineNames(ws, known!)).toEqual(["During Merge", "Pricing", "Visited", "identify"]);
      const [stray] = await rows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${ws} AND customer_id = ${anon!}`,
      );
      expect(stray?.n).toBe(0);
    },
  );
});
