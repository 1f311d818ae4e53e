import { sql } from "drizzle-orm";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { createTeam, setAvailability, setTeamMembers } from "../src/conversations/assignment.ts";
import { getConversation, updateConversation } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { wakeSnoozedTask } from "../src/conversations/snooze.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { isAppError } from "../src/errors.ts";
import { uuidv7 } from "../src/ids.ts";
import { createWorker, enqueue } from "../src/jobs/index.ts";
import { createUser } from "../src/platform/users.ts";
import { createTestWorkspace } from "./support/factories.ts";

let db: Db;
beforeAll(async () => {
  db = (await testDatabase()).db;
});

async function agents(ws: string, n: number) {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = await createUser(db, {
      workspaceId: ws,
      email: `a${i}-${uuidv7().slice(-8)}@example.com`,
      role: "agent",
      status: "active",
    });
    out.push(u.id);
  }
  return out;
}

async function open(ws: string, inboxId: string, email: string) {
  const r = await receiveInbound(
    db,
    ws,
    { inboxId, from: [{ kind: "email", value: email }], text: "help" },
    { defaultCountry: "FR" },
  );
  return getConversation(db, ws, r.conversationId);
}

describe("assignment of new conversations", () => {
  it("goes round robin among online agents, skipping those away or busy", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const [a, b, c] = await agents(ws, 3);
    for (const u of [a, b]) await setAvailability(db, ws, u ?? "", "online");
    await setAvailability(db, ws, c ?? "", "busy");
    const inbox = await createInbox(db, ws, { kind: "api", name: "rr", assignment: "round_robin" });
    const got: Array<string | null> = [];
    for (let i = 0; i < 4; i++) got.push((await open(ws, inbox.id, `rr${i}@example.com`)).assigneeId);
    expect(new Set(got)).toEqual(new Set([a, b]));
    expect(got[0]).not.toBe(got[1]);
    expect(got[2]).toBe(got[0]);
    expect(got[3]).toBe(got[1]);
    // a manual inbox leaves conversations unassigned
    const manual = await createInbox(db, ws, { kind: "api", name: "manual" });
    expect((await open(ws, manual.id, "m@example.com")).assigneeId).toBeNull();
  });

  it("gives least-loaded inboxes' conversations to the agent holding the fewest, within the inbox's team", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const [a, b, outsider] = await agents(ws, 3);
    for (const u of [a, b, outsider]) await setAvailability(db, ws, u ?? "", "online");
    const team = await createTeam(db, ws, "Billing");
    await setTeamMembers(db, ws, team.id, [a ?? "", b ?? ""]);
    const rr = await createInbox(db, ws, {
      kind: "api",
      name: "seed",
      assignment: "round_robin",
      teamId: team.id,
    });
    // a gets two open conversations through round robin's alternation (a, b, a)
    const seeded: Array<string | null> = [];
    for (let i = 0; i < 3; i++) seeded.push((await open(ws, rr.id, `s${i}@example.com`)).assigneeId);
    const heavy = seeded.filter((x) => x === seeded[0]).length === 2 ? seeded[0] : seeded[1];
    const light = heavy === a ? b : a;
    const ll = await createInbox(db, ws, {
      kind: "api",
      name: "billing",
      assignment: "least_loaded",
      teamId: team.id,
    });
    const c = await open(ws, ll.id, "ll@example.com");
    expect(c.assigneeId).toBe(light);
    expect(c.teamId).toBe(team.id);
    expect([a, b]).toContain(c.assigneeId);
  });

  it("refuses bad team and availability input", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await createTeam(db, ws, "VIP");
    const dup = await createTeam(db, ws, " VIP ").catch((e: unknown) => e);
    expect(isAppError(dup, "conversations.team_already_exists")).toBe(true);
    const team = await createTeam(db, ws, "Care");
    const ghost = await setTeamMembers(db, ws, team.id, [uuidv7()]).catch((e: unknown) => e);
    expect(isAppError(ghost, "conversations.user_not_found")).toBe(true);
    const other = (await createTestWorkspace()).workspace.id;
    const cross = await setTeamMembers(db, other, team.id, []).catch((e: unknown) => e);
    expect(isAppError(cross, "conversations.team_not_found")).toBe(true);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong status
    const bad = await setAvailability(db, ws, uuidv7(), "sleeping" as any).catch((e: unknown) => e);
    expect(isAppError(bad, "conversations.invalid_availability")).toBe(true);
  });

  it("wakes snoozed conversations when their time comes", async () => {
    const { db: database } = { db };
    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await createInbox(db, ws, { kind: "api", name: "snooze" });
    const c = await open(ws, inbox.id, "sleepy@example.com");
    const later = await open(ws, inbox.id, "later@example.com");
    const soon = new Date(Date.now() + 60_000).toISOString();
    await updateConversation(db, ws, c.id, { status: "snoozed", snoozedUntil: soon });
    await updateConversation(db, ws, later.id, {
      status: "snoozed",
      snoozedUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });
    // the first snooze is over: as if a minute had passed
    await database.execute(sql`UPDATE conversations SET snoozed_until = now() - interval '1 second'
      WHERE workspace_id = ${ws} AND id = ${c.id}`);
    const queue = `wake-${uuidv7()}`;
    await enqueue(db, { task: wakeSnoozedTask, payload: {}, queue });
    const worker = createWorker({
      database: await testDatabase(),
      tasks: [wakeSnoozedTask],
      queues: { [queue]: 1 },
      pollMs: 50,
      logger: pino({ level: "silent" }),
    });
    await worker.start();
    try {
      for (let i = 0; i < 100 && (await getConversation(db, ws, c.id)).status !== "open"; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.stop({ timeoutMs: 2000 });
    }
    expect(await getConversation(db, ws, c.id)).toMatchObject({ status: "open", snoozedUntil: null });
    expect((await getConversation(db, ws, later.id)).status).toBe("snoozed");
  });
});
