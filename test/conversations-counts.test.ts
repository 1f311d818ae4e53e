import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam } from "../src/conversations/assignment.ts";
import { conversationCounts } from "../src/conversations/conversation-counts.ts";
import { updateConversation } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { createUser } from "../src/platform/users.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

describe("conversation counts", () => {
  it("counts open and pending per view, inbox, team and label, and every status", async () => {
    const s = await signedIn(app, "agent");
    const ws = s.workspace.id;
    const other = await createUser(db, {
      workspaceId: ws,
      email: `other-${uuidv7().slice(-12)}@example.com`,
      role: "agent",
      status: "active",
    });
    const team = await createTeam(db, ws, "Billing");
    const api = await createInbox(db, ws, { kind: "api", name: "App" });
    const chat = await createInbox(db, ws, { kind: "api", name: "Forms" });
    const open = async (who: string, inboxId = api.id) =>
      (
        await receiveInbound(
          db,
          ws,
          { inboxId, from: [{ kind: "email", value: who }], text: "Hi" },
          { defaultCountry: "FR" },
        )
      ).conversationId;
    const mineOpen = await open("a@example.com");
    const minePending = await open("b@example.com");
    const theirs = await open("c@example.com", chat.id);
    const unassigned = await open("d@example.com", chat.id);
    const resolved = await open("e@example.com");
    const snoozed = await open("f@example.com");
    await updateConversation(db, ws, mineOpen, { assigneeId: s.user.id, labels: ["refund", "vip"] });
    await updateConversation(db, ws, minePending, {
      assigneeId: s.user.id,
      status: "pending",
      teamId: team.id,
      labels: ["refund"],
    });
    await updateConversation(db, ws, theirs, { assigneeId: other.id, teamId: team.id });
    await updateConversation(db, ws, unassigned, { labels: ["vip"] });
    await updateConversation(db, ws, resolved, { status: "resolved", labels: ["refund"], teamId: team.id });
    await updateConversation(db, ws, snoozed, {
      status: "snoozed",
      snoozedUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });

    const res = await app.inject({
      method: "GET",
      url: "/api/v1/conversations/counts",
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      views: {
        mine: { open: 1, pending: 1 },
        unassigned: { open: 1, pending: 0 },
        all: { open: 3, pending: 1 },
      },
      inboxes: [
        { inboxId: api.id, open: 1, pending: 1 },
        { inboxId: chat.id, open: 2, pending: 0 },
      ].sort((a, b) => a.inboxId.localeCompare(b.inboxId)),
      teams: [{ teamId: team.id, open: 1, pending: 1 }],
      labels: [
        { label: "refund", open: 1, pending: 1 },
        { label: "vip", open: 2, pending: 0 },
      ],
      statuses: { open: 3, pending: 1, snoozed: 1, resolved: 1 },
    });

    // a secret key has no conversations of its own; the rest is the workspace's
    const byKey = await app.inject({
      method: "GET",
      url: "/api/v1/conversations/counts",
      headers: { authorization: `Bearer ${s.secretKey}` },
    });
    expect(byKey.statusCode).toBe(200);
    expect(byKey.json().views).toEqual({
      mine: null,
      unassigned: { open: 1, pending: 0 },
      all: { open: 3, pending: 1 },
    });
  });

  it("counts nothing of another workspace, and answers zeros for an empty one", async () => {
    const busy = await signedIn(app, "agent");
    const inbox = await createInbox(db, busy.workspace.id, { kind: "api", name: "App" });
    await receiveInbound(
      db,
      busy.workspace.id,
      { inboxId: inbox.id, from: [{ kind: "email", value: "x@example.com" }], text: "Hi" },
      { defaultCountry: "FR" },
    );
    const empty = await signedIn(app, "agent");
    expect(await conversationCounts(db, empty.workspace.id, { userId: empty.user.id })).toEqual({
      views: {
        mine: { open: 0, pending: 0 },
        unassigned: { open: 0, pending: 0 },
        all: { open: 0, pending: 0 },
      },
      inboxes: [],
      teams: [],
      labels: [],
      statuses: { open: 0, pending: 0, snoozed: 0, resolved: 0 },
    });
  });

  it("needs a session or a secret key", async () => {
    const res = await app.inject({ method: "GET", url: "/api/v1/conversations/counts" });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("auth.unauthorized");
  });
});
