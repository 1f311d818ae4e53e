import { Analytics } from "@segment/analytics-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { foldAllInboxes } from "../src/profiles/inbox.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

let app: App;
let url: string;
let t: TestWorkspace;

beforeAll(async () => {
  app = await testApp();
  url = await app.listen({ port: 0, host: "127.0.0.1" });
  t = await createTestWorkspace();
});
afterAll(async () => app?.close());

type Listing = {
  data: Array<{
    id: string;
    type: string;
    name: string | null;
    traits: Record<string, unknown>;
    identities: unknown[];
    context: { library?: { name?: string } };
  }>;
};

const api = async (path: string): Promise<Listing> => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${t.secretKey}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as Listing;
};

describe("an unmodified Segment client pointed at Rapport", () => {
  it("lands identify, track, page, group and alias calls as one merged customer", async () => {
    const analytics = new Analytics({ writeKey: t.writeKey, host: url, flushAt: 50, maxRetries: 0 });
    const errors: unknown[] = [];
    analytics.on("error", (e) => errors.push(e));

    analytics.track({ anonymousId: "device-42", event: "App Installed", properties: { store: "play" } });
    analytics.page({ anonymousId: "device-42", name: "Welcome" });
    analytics.identify({
      anonymousId: "device-42",
      userId: "user-42",
      traits: { email: "Noor@Example.com", name: "Noor", plan: "premium" },
    });
    analytics.track({ userId: "user-42", event: "Song Played", properties: { title: "Blue" } });
    analytics.group({ userId: "user-42", groupId: "family-7", traits: { name: "The Family" } });
    analytics.alias({ userId: "user-42", previousId: "web-visitor-9" });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);
    // the worker's job, done here so the test does not wait on a poll interval
    await foldAllInboxes((await testDatabase()).db);

    const found = await api("/api/v1/customers?email=noor@example.com");
    expect(found.data).toHaveLength(1);
    const customer = found.data[0]!;
    expect(customer.traits).toMatchObject({ name: "Noor", plan: "premium", email: "noor@example.com" });
    expect(customer.identities).toEqual(
      expect.arrayContaining([
        { kind: "user_id", value: "user-42" },
        { kind: "anonymous_id", value: "device-42" },
        { kind: "anonymous_id", value: "web-visitor-9" },
        { kind: "email", value: "noor@example.com" },
      ]),
    );
    const events = await api(`/api/v1/customers/${customer.id}/events?limit=50`);
    expect(events.data.map((e) => e.type).sort()).toEqual(
      ["alias", "group", "identify", "page", "track", "track"].sort(),
    );
    expect(events.data.find((e) => e.name === "Song Played")?.context.library?.name).toBe(
      "@segment/analytics-node",
    );
  });
});
