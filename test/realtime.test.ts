import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { type Bus, type BusMode, createBus, publishInTransaction } from "../src/realtime/bus.ts";
import { MAX_ENVELOPE_BYTES } from "../src/realtime/envelope.ts";
import { silentLogger, sleep, spawnScript, waitFor } from "./support/job-helpers.ts";

let database: Database;
const buses: Bus[] = [];

beforeAll(async () => {
  database = await testDatabase();
});

afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function openBus(mode: BusMode): Promise<Bus> {
  const bus = await createBus(database, mode, { logger: silentLogger });
  buses.push(bus);
  return bus;
}

function topic(kind = "conversations"): string {
  return `ws:${uuidv7()}:${kind}`;
}

describe.each<BusMode>(["in-process", "postgres"])("bus (%s)", (mode) => {
  it("delivers to the subscribers of a topic only, as copies", async () => {
    const bus = await openBus(mode);
    const [mine, other] = [topic(), topic()];
    const a: unknown[] = [];
    const b: unknown[] = [];
    const elsewhere: unknown[] = [];
    bus.subscribe(mine, (m) => a.push(m));
    bus.subscribe(mine, (m) => b.push(m));
    bus.subscribe(other, (m) => elsewhere.push(m));
    const sent = { conversationId: "c1", at: "2030-01-01T00:00:00.000Z", tags: ["vip"] };
    await bus.publish(mine, sent);
    await waitFor("both subscribers", () => a.length === 1 && b.length === 1);
    expect(a).toEqual([sent]);
    expect(a[0]).not.toBe(sent);
    await sleep(50);
    expect(elsewhere).toEqual([]);
  });

  it("stops delivering after unsubscribe, and a throwing handler does not starve the others", async () => {
    const bus = await openBus(mode);
    const t = topic();
    const kept: unknown[] = [];
    const dropped: unknown[] = [];
    bus.subscribe(t, () => {
      throw new Error("a broken socket");
    });
    const unsubscribe = bus.subscribe(t, (m) => dropped.push(m));
    bus.subscribe(t, (m) => kept.push(m));
    await bus.publish(t, { n: 1 });
    await waitFor("the first message", () => kept.length === 1 && dropped.length === 1);
    unsubscribe();
    await bus.publish(t, { n: 2 });
    await waitFor("the second message", () => kept.length === 2);
    await sleep(50);
    expect(dropped).toEqual([{ n: 1 }]);
    expect(kept).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("delivers a message published in a transaction only after commit, and never after rollback", async () => {
    const bus = await openBus(mode);
    const t = topic();
    const got: unknown[] = [];
    bus.subscribe(t, (m) => got.push(m));
    await database.db.transaction(async (tx) => {
      await publishInTransaction(tx, t, { step: "committed" });
      // no query on the outer db here: PGlite has one session
      await sleep(100);
      expect(got).toEqual([]);
    });
    await waitFor("the committed message", () => got.length === 1);
    await expect(
      database.db.transaction(async (tx) => {
        await publishInTransaction(tx, t, { step: "rolled back" });
        tx.rollback();
      }),
    ).rejects.toThrow();
    await database.db.transaction((tx) => publishInTransaction(tx, t, { step: "marker" }));
    await waitFor("the marker", () => got.length === 2);
    await sleep(50);
    expect(got).toEqual([{ step: "committed" }, { step: "marker" }]);
  });

  it("rejects a message too large for NOTIFY with a clear error, through both paths", async () => {
    const bus = await openBus(mode);
    const t = topic();
    const big = { body: "x".repeat(MAX_ENVELOPE_BYTES) };
    const direct = bus.publish(t, big);
    await expect(direct).rejects.toSatisfy((err) => isAppError(err, "realtime.message_too_large"));
    await expect(direct).rejects.toThrow(/Publish the id of the record/);
    await expect(database.db.transaction((tx) => publishInTransaction(tx, t, big))).rejects.toSatisfy((err) =>
      isAppError(err, "realtime.message_too_large"),
    );
    // multi-byte characters count as bytes, not characters
    const accents = { body: "é".repeat(MAX_ENVELOPE_BYTES / 2) };
    await expect(bus.publish(t, accents)).rejects.toSatisfy((err) =>
      isAppError(err, "realtime.message_too_large"),
    );
    await expect(bus.publish(t, undefined)).rejects.toSatisfy((err) =>
      isAppError(err, "realtime.invalid_message"),
    );
  });
});

describe("bus across processes", () => {
  // PGlite lives inside one process by design; crossing processes needs PostgreSQL.
  it.skipIf(!testDatabaseUrl())("delivers what another process publishes", async () => {
    const bus = await openBus("postgres");
    const t = topic();
    const got: Array<{ n: number; pid: number }> = [];
    bus.subscribe(t, (m) => {
      if (typeof m === "object" && m !== null && "n" in m && "pid" in m) {
        got.push({ n: Number(m.n), pid: Number(m.pid) });
      }
    });
    const child = spawnScript("./job-bus-publisher.ts", [
      "--url",
      testDatabaseUrl()!,
      "--topic",
      t,
      "--count",
      "5",
    ]);
    await child.waitForEvent((e) => e.event === "published");
    expect(await child.exited).toBe(0);
    await waitFor("six messages", () => got.length === 6);
    expect(got.map((m) => m.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.every((m) => m.pid === child.process.pid && m.pid !== process.pid)).toBe(true);
  });
});
