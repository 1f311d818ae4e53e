import { sql } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type ConsentChange, consentLedger, consentOverview, recordConsent } from "../src/consent/ledger.ts";
import { getPreferences, updatePreferences } from "../src/consent/preferences.ts";
import { updateMessagingSettings } from "../src/consent/settings-admin.ts";
import { CHANNELS } from "../src/consent/tables.ts";
import { listTopics } from "../src/consent/topics.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

async function customer(ws: string, email = `c-${uuidv7().slice(-12)}@example.com`, traits = {}) {
  const r = await identify(db, ws, {
    identifiers: [{ kind: "email", value: email }],
    traits,
    reason: "test",
    defaultCountry: "US",
  });
  return r.customerId;
}

async function topicIds(ws: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listTopics(db, ws)).map((t) => [t.key, t.id]));
}

type StateRow = { channel: string; topic: string; status: string; ledgerId: string };

async function storedStates(ws: string, customerId: string): Promise<StateRow[]> {
  return rows<StateRow>(
    db,
    sql`SELECT channel, topic, status, ledger_id::text AS "ledgerId" FROM consent_states
        WHERE workspace_id = ${ws} AND customer_id = ${customerId} ORDER BY channel, topic`,
  );
}

// the states as the ledger says they should be: the newest entry per channel × topic
async function rebuiltStates(ws: string, customerId: string): Promise<StateRow[]> {
  return rows<StateRow>(
    db,
    sql`SELECT DISTINCT ON (channel, COALESCE(topic_id::text, '*')) channel, COALESCE(topic_id::text, '*') AS topic,
          status, id::text AS "ledgerId"
        FROM consent_ledger WHERE workspace_id = ${ws} AND customer_id = ${customerId}
        ORDER BY channel, COALESCE(topic_id::text, '*'), created_at DESC, id DESC`,
  );
}

describe("consent ledger", () => {
  it("appends entries and derives the current state per channel × topic", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const id = await customer(ws);
    const t = await topicIds(ws);
    const first = await recordConsent(
      db,
      ws,
      id,
      [{ channel: "email", topicId: t.promotions!, status: "unsubscribed" }],
      "api",
      { actorId: "key-1", ip: "203.0.113.9" },
    );
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      channel: "email",
      topic: "promotions",
      status: "unsubscribed",
      source: "api",
    });
    await recordConsent(
      db,
      ws,
      id,
      [
        { channel: "email", topicId: t.promotions!, status: "subscribed" },
        { channel: "sms", topicId: null, status: "unsubscribed" },
      ],
      "agent",
      { actorId: "user-1" },
    );
    const states = await storedStates(ws, id);
    expect(states.map((s) => [s.channel, s.topic, s.status])).toEqual([
      ["email", t.promotions, "subscribed"],
      ["sms", "*", "unsubscribed"],
    ]);
    const ledger = await consentLedger(db, ws, id, { limit: 2 });
    expect(ledger.data.map((e) => e.status)).toHaveLength(2);
    expect(ledger.nextCursor).not.toBeNull();
    const rest = await consentLedger(db, ws, id, { limit: 2, cursor: ledger.nextCursor! });
    expect(rest.data).toHaveLength(1);
    expect(rest.data[0]?.proof).toEqual({ actorId: "key-1", ip: "203.0.113.9" });
    expect(rest.nextCursor).toBeNull();
  });

  it("refuses an unknown customer, an unknown topic and a bad channel, writing nothing", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const id = await customer(ws);
    const t = await topicIds(ws);
    await expect(
      recordConsent(db, ws, uuidv7(), [{ channel: "email", topicId: null, status: "subscribed" }], "api", {}),
    ).rejects.toSatisfy((e) => isAppError(e, "consent.customer_not_found"));
    await expect(
      recordConsent(db, ws, id, [{ channel: "email", topicId: uuidv7(), status: "subscribed" }], "api", {}),
    ).rejects.toSatisfy((e) => isAppError(e, "consent.topic_not_found"));
    const badChannel = [
      { channel: "fax", topicId: null, status: "subscribed" },
    ] as unknown as ConsentChange[];
    await expect(recordConsent(db, ws, id, badChannel, "api", {})).rejects.toSatisfy((e) =>
      isAppError(e, "consent.invalid_channel"),
    );
    // a batch with one bad change writes none of its good ones
    await expect(
      recordConsent(
        db,
        ws,
        id,
        [
          { channel: "email", topicId: t.news!, status: "unsubscribed" },
          { channel: "email", topicId: uuidv7(), status: "unsubscribed" },
        ],
        "api",
        {},
      ),
    ).rejects.toSatisfy((e) => isAppError(e, "consent.topic_not_found"));
    // another workspace's topic is unknown here
    const other = await createTestWorkspace();
    const otherTopics = await topicIds(other.workspace.id);
    await expect(
      recordConsent(
        db,
        ws,
        id,
        [{ channel: "email", topicId: otherTopics.news!, status: "subscribed" }],
        "api",
        {},
      ),
    ).rejects.toSatisfy((e) => isAppError(e, "consent.topic_not_found"));
    expect((await consentLedger(db, ws, id, { limit: 10 })).data).toEqual([]);
    expect(await storedStates(ws, id)).toEqual([]);
  });

  it("keeps the stored states equal to a rebuild from the ledger after any sequence of changes", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const t = await topicIds(ws);
    const topicChoices = [null, t.promotions!, t.news!, t.loyalty!];
    const change = fc.record({
      channel: fc.constantFrom("email", "sms", "push"),
      topicId: fc.constantFrom(...topicChoices),
      status: fc.constantFrom("subscribed", "unsubscribed"),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        async (batches) => {
          const id = await customer(ws);
          for (const batch of batches) {
            await recordConsent(db, ws, id, batch as ConsentChange[], "api", {});
          }
          expect(await storedStates(ws, id)).toEqual(await rebuiltStates(ws, id));
        },
      ),
      { numRuns: 15 },
    );
  });

  it("on a merge moves the ledger, keeps the newer state and fills the survivor's empty preferences", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const t = await topicIds(ws);
    const survivor = await customer(ws);
    const merged = await customer(ws);
    await recordConsent(
      db,
      ws,
      survivor,
      [{ channel: "email", topicId: t.promotions!, status: "unsubscribed" }],
      "api",
      {},
    );
    await recordConsent(db, ws, merged, [{ channel: "sms", topicId: null, status: "subscribed" }], "api", {});
    // the merged customer's later choice on the same cell is the newer one and wins
    await recordConsent(
      db,
      ws,
      merged,
      [{ channel: "email", topicId: t.promotions!, status: "subscribed" }],
      "api",
      {},
    );
    await recordConsent(
      db,
      ws,
      survivor,
      [{ channel: "push", topicId: t.news!, status: "unsubscribed" }],
      "api",
      {},
    );
    await updatePreferences(db, ws, survivor, { language: "fr" });
    await updatePreferences(db, ws, merged, {
      language: "en",
      timezone: "Europe/Paris",
      quietHours: { start: "22:00", end: "07:00" },
    });
    await mergeCustomers(db, ws, { survivorId: survivor, mergedId: merged, actor: "test" });

    const ledger = await consentLedger(db, ws, survivor, { limit: 50 });
    expect(ledger.data).toHaveLength(4);
    expect(new Set(ledger.data.map((e) => e.customerId))).toEqual(new Set([survivor]));
    expect(await storedStates(ws, survivor)).toEqual(await rebuiltStates(ws, survivor));
    expect(await storedStates(ws, merged)).toEqual([]);
    const overview = await consentOverview(db, ws, merged);
    expect(overview.customerId).toBe(survivor);
    const promotions = overview.topics.find((x) => x.key === "promotions");
    expect(promotions?.channels.email).toEqual({ subscribed: true, source: "topic" });
    expect(overview.topics.find((x) => x.key === "news")?.channels.push).toEqual({
      subscribed: false,
      source: "topic",
    });
    expect(promotions?.channels.sms).toEqual({ subscribed: true, source: "channel" });
    const prefs = await getPreferences(db, ws, survivor);
    expect(prefs).toMatchObject({
      language: "fr",
      timezone: "Europe/Paris",
      quietHours: { start: "22:00", end: "07:00" },
    });
    // writing to the merged id lands on the survivor
    const entries = await recordConsent(
      db,
      ws,
      merged,
      [{ channel: "email", topicId: null, status: "unsubscribed" }],
      "api",
      {},
    );
    expect(entries[0]?.customerId).toBe(survivor);
  });

  it("shows every live topic × every channel with defaults and opt-in countries in the overview", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const us = await customer(ws, undefined, { country: "US" });
    const fr = await customer(ws, undefined, { country: "fr" });
    await updateMessagingSettings(db, ws, { optInCountries: ["fr"] });
    const a = await consentOverview(db, ws, us);
    expect(a.topics.map((x) => x.key)).toEqual([
      "promotions",
      "news",
      "loyalty",
      "events",
      "service-status",
      "account",
      "support",
    ]);
    for (const topic of a.topics) expect(Object.keys(topic.channels).sort()).toEqual([...CHANNELS].sort());
    const promoUs = a.topics[0]!.channels;
    expect(promoUs.email).toEqual({ subscribed: true, source: "default" });
    expect(promoUs.sms).toEqual({ subscribed: false, source: "default" });
    expect(promoUs.x).toEqual({ subscribed: false, source: "default" });
    expect(a.optInCountry).toBe(false);
    const b = await consentOverview(db, ws, fr);
    expect(b.country).toBe("FR");
    expect(b.optInCountry).toBe(true);
    expect(b.topics[0]!.channels.email).toEqual({ subscribed: false, source: "default" });
    expect(b.reachableChannels).toEqual(["email"]);
  });
});
