import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase, testDatabaseUrl } from "../src/db/testing.ts";
import { setProvider } from "../src/delivery/deliveries.ts";
import { sendMany } from "../src/delivery/send.ts";
import { uuidv7 } from "../src/ids.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { startFakeTwilio } from "./support/fake-twilio.ts";
import { type Child, spawnScript, waitFor } from "./support/job-helpers.ts";

const RECIPIENTS = 10_000;
const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) {
      c.process.kill("SIGKILL");
      await c.exited;
    }
  }
});

describe("a send interrupted by a crash", () => {
  // The worker must be a second process on the same database, which only PostgreSQL allows
  // (PGlite is one process); the job runtime's own crash test covers PGlite.
  it.skipIf(!testDatabaseUrl())(
    "gives every recipient exactly one delivery and one accepted message after kill -9 and a restart",
    { timeout: 240_000 },
    async () => {
      const url = testDatabaseUrl() ?? "";
      const { db } = await testDatabase();
      const ws = (await createTestWorkspace()).workspace.id;
      await getMessagingSettings(db, ws);
      const twilio = await startFakeTwilio({
        accountSid: "AC0123456789abcdef0123456789abcdef",
        authToken: "secret",
      });
      await setProvider(db, ws, "sms", "twilio", {
        accountSid: "AC0123456789abcdef0123456789abcdef",
        authToken: "secret",
        from: "+15005550006",
        baseUrl: twilio.url,
      });
      const ids = Array.from({ length: RECIPIENTS }, () => uuidv7());
      for (let i = 0; i < ids.length; i += 5000) {
        const slice = JSON.stringify(ids.slice(i, i + 5000));
        await db.execute(sql`INSERT INTO customers (workspace_id, id, first_seen_at, last_seen_at)
          SELECT ${ws}, x::uuid, now(), now() FROM jsonb_array_elements_text(${slice}::jsonb) AS x`);
        await db.execute(sql`INSERT INTO identities (workspace_id, kind, value, customer_id)
          SELECT ${ws}, 'phone', '+1555' || lpad((n + ${i})::text, 7, '0'), x::uuid
          FROM jsonb_array_elements_text(${slice}::jsonb) WITH ORDINALITY AS t(x, n)`);
      }
      for (let i = 0; i < ids.length; i += 1000) {
        const out = await sendMany(
          db,
          ws,
          ids.slice(i, i + 1000).map((customerId) => ({
            customerId,
            topic: "service-status",
            channel: "sms" as const,
            content: { text: "The service is back. Thank you for your patience." },
            idempotencyKey: `outage-42:${customerId}`,
            source: "status",
          })),
          { publicUrl: "https://rapport.example" },
        );
        expect(out.every((o) => "deliveryId" in o && o.state === "queued")).toBe(true);
      }

      const first = spawnScript("./delivery-worker-process.ts", ["--url", url, "--lease-ms", "1500"]);
      children.push(first);
      await first.waitForEvent((e) => e.event === "ready", 60_000);
      await waitFor("a third of the messages", () => twilio.messages.length >= RECIPIENTS / 3, 120_000);
      first.process.kill("SIGKILL");
      await first.exited;
      const atKill = await rows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${ws} AND state = 'sending'`,
      );

      const second = spawnScript("./delivery-worker-process.ts", ["--url", url, "--lease-ms", "1500"]);
      children.push(second);
      await waitFor(
        "every delivery sent",
        async () => {
          const [r] = await rows<{ n: number }>(
            db,
            sql`SELECT count(*)::int AS n FROM deliveries WHERE workspace_id = ${ws} AND state = 'sent'`,
          );
          return (r?.n ?? 0) === RECIPIENTS;
        },
        180_000,
      );

      const perCustomer = await rows<{ customers: number; deliveries: number }>(
        db,
        sql`SELECT count(DISTINCT customer_id)::int AS customers, count(*)::int AS deliveries
            FROM deliveries WHERE workspace_id = ${ws}`,
      );
      expect(perCustomer[0]).toEqual({ customers: RECIPIENTS, deliveries: RECIPIENTS });
      // the fake honours idempotency tokens: one message per recipient, however many calls
      expect(twilio.messages).toHaveLength(RECIPIENTS);
      expect(new Set(twilio.messages.map((m) => m.form.To)).size).toBe(RECIPIENTS);
      const calls = twilio.requests.filter((r) => r.path.endsWith("/Messages.json")).length;
      // what the idempotency key saved: calls the provider would have turned into a second message
      const duplicates = calls - RECIPIENTS;
      console.log(
        `crash test: ${calls} provider calls for ${RECIPIENTS} recipients; ${duplicates} repeated after the crash ` +
          `(${atKill[0]?.n ?? 0} deliveries were 'sending' at the kill) would have been duplicate messages without the idempotency key`,
      );
      expect(duplicates).toBeGreaterThanOrEqual(0);
      await twilio.close();
    },
  );
});
