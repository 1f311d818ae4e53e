import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam, setTeamMembers } from "../src/conversations/assignment.ts";
import { updateConversation } from "../src/conversations/conversations.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { mergeConversations } from "../src/conversations/merge.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
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

async function agent() {
  const s = await signedIn(app, "agent");
  const get = (url: string) =>
    app.inject({ method: "GET", url, cookies: s.cookies, headers: { origin: "http://localhost:3000" } });
  const byKey = (url: string) =>
    app.inject({ method: "GET", url, headers: { authorization: `Bearer ${s.secretKey}` } });
  return { ...s, ws: s.workspace.id, get, byKey };
}

describe("the lists an agent picks from", () => {
  it("lists teams with their members, by name", async () => {
    const a = await agent();
    const other = await agent();
    const billing = await createTeam(db, a.ws, "Billing");
    const vip = await createTeam(db, a.ws, "VIP care");
    await createTeam(db, other.ws, "Not yours");
    await setTeamMembers(db, a.ws, billing.id, [a.user.id]);
    const res = await a.get("/api/v1/teams");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { id: billing.id, name: "Billing", memberIds: [a.user.id] },
        { id: vip.id, name: "VIP care", memberIds: [] },
      ],
    });
    expect((await a.byKey("/api/v1/teams")).json().data).toHaveLength(2);
    expect((await app.inject({ method: "GET", url: "/api/v1/teams" })).statusCode).toBe(401);
  });

  it("lists the labels in use with counts, by name, merged-away conversations left out", async () => {
    const a = await agent();
    const other = await agent();
    const inbox = await createInbox(db, a.ws, { kind: "api", name: "App" });
    const write = async (ws: string, inboxId: string, email: string) =>
      (
        await receiveInbound(
          db,
          ws,
          { inboxId, from: [{ kind: "email", value: email }], text: "hi", threadKey: email },
          { defaultCountry: "FR" },
        )
      ).conversationId;
    const one = await write(a.ws, inbox.id, "one@example.com");
    const two = await write(a.ws, inbox.id, "two@example.com");
    const three = await write(a.ws, inbox.id, "three@example.com");
    await updateConversation(db, a.ws, one, { labels: ["refund", "vip"] });
    await updateConversation(db, a.ws, two, { labels: ["refund"], status: "resolved" });
    await updateConversation(db, a.ws, three, { labels: ["zzz-merged"] });
    const four = await receiveInbound(
      db,
      a.ws,
      {
        inboxId: inbox.id,
        from: [{ kind: "email", value: "three@example.com" }],
        text: "again",
        threadKey: "t2",
      },
      { defaultCountry: "FR" },
    );
    await mergeConversations(
      db,
      a.ws,
      three,
      { into: four.conversationId },
      {
        actor: { kind: "user", id: a.user.id },
        userId: a.user.id,
        ip: null,
      },
    );
    const theirInbox = await createInbox(db, other.ws, { kind: "api", name: "Theirs" });
    const theirs = await write(other.ws, theirInbox.id, "x@example.com");
    await updateConversation(db, other.ws, theirs, { labels: ["secret-label"] });

    const res = await a.get("/api/v1/labels");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { name: "refund", count: 2, open: 1 },
        { name: "vip", count: 1, open: 1 },
        // the merge carried the label over; the merged-away stub is not counted twice
        { name: "zzz-merged", count: 1, open: 1 },
      ],
    });
  });

  it("lets every role read the active members for assigning and mentions, without secrets", async () => {
    const a = await agent();
    await createUser(db, {
      workspaceId: a.ws,
      email: "zoe@example.com",
      name: "Zoé",
      role: "admin",
      status: "active",
    });
    await createUser(db, { workspaceId: a.ws, email: "inv@example.com", role: "agent", status: "invited" });
    await createUser(db, { workspaceId: a.ws, email: "gone@example.com", role: "agent", status: "disabled" });
    const res = await a.get("/api/v1/agents");
    expect(res.statusCode, res.body).toBe(200);
    const data: Array<Record<string, unknown>> = res.json().data;
    expect(data.map((u) => u.email).sort()).toEqual([a.user.email, "zoe@example.com"].sort());
    for (const u of data) expect(Object.keys(u).sort()).toEqual(["email", "id", "name", "role"]);
    expect(data.find((u) => u.email === "zoe@example.com")).toMatchObject({ name: "Zoé", role: "admin" });
    expect(JSON.stringify(res.json())).not.toMatch(/password|argon/i);
    // managing users stays with owners and admins
    const invite = await app.inject({
      method: "POST",
      url: "/api/v1/users",
      cookies: a.cookies,
      headers: { origin: "http://localhost:3000" },
      payload: { email: "new@example.com", role: "agent" },
    });
    expect(invite.statusCode).toBe(403);
    const other = await agent();
    const theirs = (await other.get("/api/v1/agents")).json().data;
    expect(theirs.map((u: { id: string }) => u.id)).toEqual([other.user.id]);
  });

  it("documents the new endpoints in the OpenAPI document", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(paths["/api/v1/auth/me"] ?? {}).sort()).toEqual(["get", "patch"]);
    for (const path of [
      "/api/v1/teams",
      "/api/v1/labels",
      "/api/v1/agents",
      "/api/v1/search",
      "/api/v1/conversations/{id}/read",
      "/api/v1/conversations/{id}/messages/{messageId}/retry",
    ]) {
      expect(paths[path], path).toBeDefined();
    }
    const search = JSON.stringify(paths["/api/v1/search"]);
    expect(search).toContain("snippet");
    expect(search).toContain('"name":"q"');
    expect(JSON.stringify(paths["/api/v1/teams"])).toContain("memberIds");
    expect(JSON.stringify(paths["/api/v1/auth/me"])).toContain("locale");
  });
});
