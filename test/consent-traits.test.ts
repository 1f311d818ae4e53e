import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { getCustomer } from "../src/profiles/customers.ts";
import { identify } from "../src/profiles/identify.ts";
import { mergeCustomers } from "../src/profiles/merge.ts";
import { setTraits } from "../src/profiles/set-traits.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

async function person(ws: string, traits: Record<string, unknown>, at: Date) {
  const r = await identify(db, ws, {
    identifiers: [{ kind: "email", value: `t-${uuidv7().slice(-12)}@example.com` }],
    traits,
    at,
    reason: "test",
    defaultCountry: "US",
  });
  return r.customerId;
}

describe("setTraits (zero-party answers)", () => {
  it("merges per key, newer wins, and follows a merged id to its survivor", async () => {
    const { workspace } = await createTestWorkspace();
    const ws = workspace.id;
    const survivor = await person(ws, { plan: "pro", size: "40" }, new Date("2030-01-02T00:00:00Z"));
    const merged = await person(ws, {}, new Date("2030-01-01T00:00:00Z"));
    await mergeCustomers(db, ws, { survivorId: survivor, mergedId: merged, actor: "test" });
    const result = await db.transaction((tx) =>
      setTraits(tx, ws, merged, { size: "42", interests: ["hiking"] }, new Date("2030-01-03T00:00:00Z")),
    );
    expect(result).toMatchObject({ customerId: survivor, changed: true });
    // an older answer never overwrites a newer value
    const stale = await db.transaction((tx) =>
      setTraits(tx, ws, survivor, { plan: "free" }, new Date("2030-01-01T00:00:00Z")),
    );
    expect(stale.changed).toBe(false);
    expect((await getCustomer(db, ws, survivor)).traits).toEqual({
      plan: "pro",
      size: "42",
      interests: ["hiking"],
    });
  });

  it("refuses an unknown or malformed customer id", async () => {
    const { workspace } = await createTestWorkspace();
    await expect(
      db.transaction((tx) => setTraits(tx, workspace.id, uuidv7(), { a: 1 }, new Date())),
    ).rejects.toSatisfy((e) => isAppError(e, "profiles.customer_not_found"));
    await expect(
      db.transaction((tx) => setTraits(tx, workspace.id, "nope", { a: 1 }, new Date())),
    ).rejects.toSatisfy((e) => isAppError(e, "profiles.invalid_id"));
  });
});
