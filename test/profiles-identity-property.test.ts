import { sql } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { acceptEvents, foldInbox } from "../src/profiles/inbox.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

const userId = fc.constantFrom("u1", "u2", "u3");
const anonId = fc.constantFrom("a1", "a2", "a3", "a4");
const email = fc.constantFrom("x@example.com", "y@example.com");

const call = fc.oneof(
  fc.record({
    type: fc.constant("identify" as const),
    userId: fc.option(userId, { nil: undefined }),
    anonymousId: anonId,
    email: fc.option(email, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("track" as const),
    userId: fc.option(userId, { nil: undefined }),
    anonymousId: anonId,
  }),
  fc.record({ type: fc.constant("alias" as const), previousId: fc.oneof(anonId, userId), userId }),
);

type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;

function toEvent(c: Call, i: number): Record<string, unknown> {
  const messageId = `p-${i}`;
  if (c.type === "alias") return { type: "alias", messageId, previousId: c.previousId, userId: c.userId };
  const base = { messageId, userId: c.userId, anonymousId: c.anonymousId };
  if (c.type === "track") return { ...base, type: "track", event: "Did Something" };
  return { ...base, type: "identify", traits: c.email ? { email: c.email } : {} };
}

describe("identity resolution, for any interleaving of calls", () => {
  it("resolves every id to exactly one live customer, loses no event and never joins two user ids", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(call, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        async (rounds) => {
          const ws = (await createTestWorkspace()).workspace.id;
          let i = 0;
          const sent = new Set<string>();
          const identifiers = new Set<string>();
          for (const round of rounds) {
            // calls within a round run concurrently, as from several clients at once
            await Promise.all(
              round.map((c) => {
                const e = toEvent(c, i++);
                sent.add(String(e.messageId));
                if (c.userId) identifiers.add(`user_id:${c.userId}`);
                if (c.type !== "alias") identifiers.add(`anonymous_id:${c.anonymousId}`);
                if (c.type === "identify" && c.email) identifiers.add(`email:${c.email}`);
                // each call folds whatever it can claim, so folds of one workspace run concurrently
                return acceptEvents(db, ws, [e], { receivedAt: new Date(), defaultCountry: "US" }).then(() =>
                  foldInbox(db, ws, { untilEmpty: true }),
                );
              }),
            );
          }
          const ids = await rows<{ k: string; live: boolean }>(
            db,
            sql`SELECT i.kind || ':' || i.value AS k, c.merged_into IS NULL AS live FROM identities i
                JOIN customers c ON c.workspace_id = i.workspace_id AND c.id = i.customer_id
                WHERE i.workspace_id = ${ws}`,
          );
          const found = new Set(ids.map((r) => r.k));
          for (const k of identifiers) expect(found.has(k), `${k} resolves`).toBe(true);
          expect(ids.every((r) => r.live)).toBe(true);
          expect(ids.length).toBe(found.size);

          const stored = await rows<{ m: string; live: boolean; ok: boolean }>(
            db,
            sql`SELECT e.message_id AS m, c.merged_into IS NULL AS live,
                  (e.user_id IS NULL OR e.type = 'alias' OR EXISTS (SELECT 1 FROM identities u WHERE u.workspace_id = e.workspace_id
                    AND u.kind = 'user_id' AND u.value = e.user_id AND u.customer_id = e.customer_id)) AS ok
                FROM events e JOIN customers c ON c.workspace_id = e.workspace_id AND c.id = e.customer_id
                WHERE e.workspace_id = ${ws}`,
          );
          expect(new Set(stored.map((s) => s.m))).toEqual(sent);
          expect(stored.every((s) => s.live)).toBe(true);
          // an event sent with a user id sits with the customer holding that user id
          expect(stored.filter((s) => !s.ok)).toEqual([]);

          const doubled = await rows<{ c: string }>(
            db,
            sql`SELECT customer_id::text AS c FROM identities WHERE workspace_id = ${ws} AND kind = 'user_id'
                GROUP BY customer_id HAVING count(*) > 1`,
          );
          expect(doubled).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
