import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { createWorker, enqueue, type Worker } from "../src/jobs/index.ts";
import { acceptEvents, ingestSweepTask } from "../src/profiles/inbox.ts";
import { allTasks } from "../src/tasks.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

let app: App;
let worker: Worker;
let t: TestWorkspace;

beforeAll(async () => {
  app = await testApp();
  t = await createTestWorkspace();
  worker = createWorker({
    database: await testDatabase(),
    tasks: allTasks,
    queues: { ingest: 2 },
    pollMs: 200,
    logger: pino({ level: "silent" }),
  });
  await worker.start();
});
afterAll(async () => {
  await worker?.stop({ timeoutMs: 5000 });
  await app?.close();
});

describe("accepted events reach the timeline through the worker", () => {
  it("folds a batch in with no help once the worker runs", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/batch",
      headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}` },
      payload: {
        batch: [
          { type: "identify", userId: "w1", traits: { email: "w1@example.com" } },
          { type: "track", userId: "w1", event: "Subscribed" },
        ],
      },
    });
    expect(res.json()).toMatchObject({ success: true, accepted: 2 });
    const get = async (url: string) =>
      (await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${t.secretKey}` } })).json();
    let types: string[] = [];
    for (let i = 0; i < 100 && types.length < 2; i++) {
      const [customer] = (await get("/api/v1/customers?userId=w1")).data;
      types = customer
        ? (await get(`/api/v1/customers/${customer.id}/events`)).data.map((e: { type: string }) => e.type)
        : [];
      if (types.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(types.sort()).toEqual(["identify", "track"]);
  });

  it("folds a batch whose fold request was lost, through the sweep", async () => {
    const db = (await testDatabase()).db;
    const ws = await createTestWorkspace();
    await acceptEvents(db, ws.workspace.id, [{ type: "track", userId: "swept", event: "E" }], {
      receivedAt: new Date(),
      defaultCountry: "US",
    });
    // as if the request had raced a finishing fold: the batch is queued and no fold is asked for
    await db.execute(sql`DELETE FROM jobs WHERE workspace_id = ${ws.workspace.id}`);
    await new Promise((r) => setTimeout(r, 2500));
    await enqueue(db, { task: ingestSweepTask, payload: {} });
    let n = 0;
    for (let i = 0; i < 100 && n === 0; i++) {
      const [r] = await rows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM events WHERE workspace_id = ${ws.workspace.id}`,
      );
      n = r?.n ?? 0;
      if (n === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(n).toBe(1);
  });
});
