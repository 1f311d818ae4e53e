import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import {
  customerMerges,
  customerTimeline,
  findByIdentifier,
  getCustomer,
  listConflicts,
} from "../src/profiles/customers.ts";
import type { IdentityKind } from "../src/profiles/identifiers.ts";
import { acceptEvents, foldInbox } from "../src/profiles/inbox.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
let n = 0;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

async function workspace() {
  return (await createTestWorkspace()).workspace.id;
}

/** Accepts events as the HTTP API does, then folds the workspace's queue as the worker does. */
async function send(ws: string, ...events: Array<Record<string, unknown>>) {
  const accepted = await acceptEvents(
    db,
    ws,
    events.map((e) => ({ messageId: `m-${++n}`, ...e })),
    { receivedAt: new Date(), defaultCountry: "US" },
  );
  await foldInbox(db, ws, { untilEmpty: true });
  return accepted;
}

async function who(ws: string, kind: IdentityKind, value: string) {
  const c = await findByIdentifier(db, ws, kind, value, "US");
  return c?.id;
}

describe("identity resolution", () => {
  it("joins an anonymous history to the known customer on identify", async () => {
    const ws = await workspace();
    await send(ws, { type: "track", anonymousId: "anon-1", event: "Viewed Pricing" });
    await send(ws, { type: "page", anonymousId: "anon-1", name: "Home" });
    const anonCustomer = await who(ws, "anonymous_id", "anon-1");
    await send(ws, {
      type: "identify",
      anonymousId: "anon-1",
      userId: "u-1",
      traits: { email: "Ada@Example.com" },
    });
    const known = await who(ws, "user_id", "u-1");
    expect(known).toBe(anonCustomer);
    expect(await who(ws, "email", "ada@example.com")).toBe(known);
    const timeline = await customerTimeline(db, ws, known!, { limit: 10 });
    expect(timeline.data.map((e) => e.type).sort()).toEqual(["identify", "page", "track"]);
    const c = await getCustomer(db, ws, known!);
    expect(c.traits.email).toBe("ada@example.com");
  });

  it("merges an anonymous profile into an existing known customer and records the merge", async () => {
    const ws = await workspace();
    await send(ws, { type: "identify", userId: "u-2", traits: { name: "Grace" } });
    await send(ws, { type: "track", anonymousId: "anon-2", event: "Opened App" });
    const anon = await who(ws, "anonymous_id", "anon-2");
    const known = await who(ws, "user_id", "u-2");
    expect(anon).not.toBe(known);
    await send(ws, { type: "track", anonymousId: "anon-2", userId: "u-2", event: "Signed In" });
    expect(await who(ws, "anonymous_id", "anon-2")).toBe(known);
    const merges = await customerMerges(db, ws, known!);
    expect(merges).toHaveLength(1);
    expect(merges[0]).toMatchObject({ survivorId: known, mergedId: anon, reason: "track" });
    // the old id keeps resolving to the survivor
    expect((await getCustomer(db, ws, anon!)).id).toBe(known);
    const timeline = await customerTimeline(db, ws, anon!, { limit: 10 });
    expect(timeline.data.map((e) => e.name)).toEqual(expect.arrayContaining(["Opened App", "Signed In"]));
  });

  it("alias joins a previous anonymous id to a user id", async () => {
    const ws = await workspace();
    await send(ws, { type: "track", anonymousId: "anon-3", event: "Added to Cart" });
    await send(ws, { type: "identify", userId: "u-3", traits: { plan: "free" } });
    await send(ws, { type: "alias", previousId: "anon-3", userId: "u-3" });
    expect(await who(ws, "anonymous_id", "anon-3")).toBe(await who(ws, "user_id", "u-3"));
  });

  it("merges when an identify's email belongs to another profile and it is safe", async () => {
    const ws = await workspace();
    await send(ws, { type: "identify", anonymousId: "anon-4", traits: { email: "lin@example.com" } });
    await send(ws, { type: "identify", userId: "u-4", traits: { email: "lin@example.com", plan: "pro" } });
    const c = await who(ws, "user_id", "u-4");
    expect(await who(ws, "email", "lin@example.com")).toBe(c);
    expect(await who(ws, "anonymous_id", "anon-4")).toBe(c);
  });

  it("never merges two different external user ids: the conflict is recorded instead", async () => {
    const ws = await workspace();
    await send(ws, { type: "identify", userId: "u-5", traits: { email: "shared@example.com" } });
    await send(ws, { type: "identify", userId: "u-6", traits: { email: "shared@example.com" } });
    const a = await who(ws, "user_id", "u-5");
    const b = await who(ws, "user_id", "u-6");
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    expect(await who(ws, "email", "shared@example.com")).toBe(a);
    const conflicts = await listConflicts(db, ws, { limit: 10 });
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      customerId: b,
      otherCustomerId: a,
      kind: "email",
      value: "shared@example.com",
    });
    // alias between two user ids is refused the same way
    await send(ws, { type: "alias", previousId: "u-5", userId: "u-6" });
    expect(await who(ws, "user_id", "u-5")).toBe(a);
    expect(await who(ws, "user_id", "u-6")).toBe(b);
    expect(await listConflicts(db, ws, { limit: 10 })).toHaveLength(2);
    await expect(
      mergeCustomers(db, ws, { survivorId: a!, mergedId: b!, actor: "test" }),
    ).rejects.toMatchObject({
      code: "profiles.merge_conflict",
    });
  });

  it("keeps a shared device's anonymous id with its first user when a second user signs in", async () => {
    const ws = await workspace();
    await send(ws, { type: "identify", anonymousId: "device-1", userId: "u-7" });
    await send(ws, { type: "identify", anonymousId: "device-1", userId: "u-8" });
    const a = await who(ws, "user_id", "u-7");
    const b = await who(ws, "user_id", "u-8");
    expect(a).not.toBe(b);
    expect(await who(ws, "anonymous_id", "device-1")).toBe(a);
  });

  it("creates one customer for concurrent identifies of the same new email", async () => {
    const ws = await workspace();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        send(ws, { type: "identify", anonymousId: `anon-c${i}`, traits: { email: "same@example.com" } }),
      ),
    );
    const c = await who(ws, "email", "same@example.com");
    for (let i = 0; i < 12; i++) expect(await who(ws, "anonymous_id", `anon-c${i}`)).toBe(c);
  });

  it("an older identify never overwrites a newer trait value", async () => {
    const ws = await workspace();
    await send(ws, {
      type: "identify",
      userId: "u-9",
      traits: { plan: "pro" },
      timestamp: "2026-03-02T00:00:00Z",
    });
    await send(ws, {
      type: "identify",
      userId: "u-9",
      traits: { plan: "free", city: "Lyon" },
      timestamp: "2026-03-01T00:00:00Z",
    });
    const c = await getCustomer(db, ws, (await who(ws, "user_id", "u-9"))!);
    expect(c.traits).toMatchObject({ plan: "pro", city: "Lyon" });
  });

  it("stores a replayed messageId once", async () => {
    const ws = await workspace();
    const e = { type: "track", userId: "u-10", event: "Paid", messageId: "fixed-1" };
    await send(ws, e);
    await send(ws, e, e);
    const folded = await foldInbox(db, ws);
    expect(folded.batches).toBe(0);
    expect(
      (await customerTimeline(db, ws, (await who(ws, "user_id", "u-10"))!, { limit: 10 })).data,
    ).toHaveLength(1);
  });

  it("folds every queued batch, and leaves the queue empty", async () => {
    const ws = await workspace();
    const ctx = { receivedAt: new Date(), defaultCountry: "US" };
    for (let i = 0; i < 30; i++) {
      await acceptEvents(
        db,
        ws,
        [{ type: "track", userId: `f-${i % 7}`, event: "E", messageId: `fold-${i}` }],
        ctx,
      );
    }
    // on a shared PostgreSQL another file's worker may fold some of these first: count the outcome
    await foldInbox(db, ws, { untilEmpty: true });
    expect(await foldInbox(db, ws)).toEqual({ batches: 0, stored: 0, duplicates: 0 });
    const [stored] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${ws}`,
    );
    expect(stored?.n).toBe(30);
    for (let i = 0; i < 7; i++) expect(await who(ws, "user_id", `f-${i}`)).toBeDefined();
  });

  it("keeps group traits by time and moves memberships with a merge", async () => {
    const ws = await workspace();
    await send(
      ws,
      {
        type: "group",
        anonymousId: "g-anon",
        groupId: "acme",
        traits: { plan: "team", seats: 5 },
        timestamp: "2026-02-02T00:00:00Z",
      },
      {
        type: "group",
        userId: "g-user",
        groupId: "acme",
        traits: { plan: "free" },
        timestamp: "2026-02-01T00:00:00Z",
      },
    );
    const [group] = await rows<{ traits: Record<string, unknown> }>(
      db,
      sql`SELECT traits FROM groups WHERE workspace_id = ${ws} AND id = 'acme'`,
    );
    expect(group?.traits).toEqual({ plan: "team", seats: 5 });
    await send(ws, { type: "identify", anonymousId: "g-anon", userId: "g-user" });
    const members = await rows<{ c: string }>(
      db,
      sql`SELECT customer_id::text AS c FROM group_memberships WHERE workspace_id = ${ws} AND group_id = 'acme'`,
    );
    expect(members.map((m) => m.c)).toEqual([await who(ws, "user_id", "g-user")]);
  });

  it("rejects an email or phone that cannot be normalised, with a clear reason", async () => {
    const ws = await workspace();
    const r = await send(
      ws,
      { type: "identify", userId: "u-11", traits: { email: "not-an-email" } },
      { type: "identify", userId: "u-12", traits: { phone: "12" } },
      { type: "identify", userId: "u-13", traits: { phone: "(415) 555-0123" } },
    );
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x) => x.code)).toEqual(["profiles.invalid_email", "profiles.invalid_phone"]);
    expect(r.rejected[0]?.message).toContain("not-an-email");
    expect(await who(ws, "user_id", "u-11")).toBeUndefined();
    expect(await who(ws, "phone", "+14155550123")).toBe(await who(ws, "user_id", "u-13"));
  });
});
