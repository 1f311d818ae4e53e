import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { rows } from "../src/db/client.ts";
import type { App } from "../src/http/app.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const SID = `AC${"1b".repeat(16)}`;

async function admin(role: "admin" | "agent" = "admin") {
  const s = await signedIn(app, role);
  const call = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  return { ...s, ws: s.workspace.id, call };
}

type Inbox = {
  id: string;
  name: string;
  address: string | null;
  config: Record<string, unknown>;
  teamId: string | null;
};

describe("an admin manages inboxes", () => {
  it("renames an inbox and changes its settings without typing its secrets again; the audit log says what changed", async () => {
    const a = await admin();
    const created = await a.call("POST", "/api/v1/inboxes", {
      kind: "sms",
      name: "Support line",
      address: "+14155550100",
      config: { accountSid: SID, authToken: "token-one" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const inbox = created.json() as Inbox;

    const res = await a.call("PATCH", `/api/v1/inboxes/${inbox.id}`, {
      name: "Care line",
      config: { messagingServiceSid: `MG${"2c".repeat(16)}` },
      assignment: "round_robin",
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: "Care line",
      address: "+14155550100",
      assignment: "round_robin",
      // merged: the token is kept
      config: { accountSid: SID, authToken: "token-one", messagingServiceSid: `MG${"2c".repeat(16)}` },
    });
    // a key set to null is removed
    const removed = await a.call("PATCH", `/api/v1/inboxes/${inbox.id}`, {
      config: { messagingServiceSid: null },
    });
    expect((removed.json() as Inbox).config).toEqual({ accountSid: SID, authToken: "token-one" });

    const audit = await rows<{ action: string; details: Record<string, unknown> }>(
      app.ctx.database.db,
      sql`SELECT action, details FROM audit_log WHERE workspace_id = ${a.ws} AND target_id = ${inbox.id} ORDER BY id`,
    );
    expect(audit.map((e) => e.action)).toEqual(["inbox.create", "inbox.update", "inbox.update"]);
    expect(audit[1]?.details).toEqual({
      fields: ["name", "config", "assignment"],
      config: ["messagingServiceSid"],
    });
    // the secret's value is never written to the log
    expect(JSON.stringify(audit)).not.toContain("token-one");
  });

  it("refuses settings that would not work, and changes nothing", async () => {
    const a = await admin();
    const other = await admin();
    const inbox = (
      await a.call("POST", "/api/v1/inboxes", {
        kind: "messenger",
        name: "Page",
        address: "109876543210987",
        config: { appSecret: "s3cret", verifyToken: "verify" },
      })
    ).json() as Inbox;
    const before = (await a.call("GET", "/api/v1/inboxes")).json();
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{}, 400, "", /at least one field/],
      [{ kind: "sms" }, 400, "", /kind|Unrecognized/i],
      [{ name: "" }, 400, "", /name/],
      [{ config: { appSecret: null } }, 400, "conversations.invalid_inbox", /config\.appSecret/],
      [
        { config: { graphBaseUrl: "ftp://graph.example" } },
        400,
        "conversations.invalid_inbox",
        /graphBaseUrl/,
      ],
      [{ teamId: "0190d3a4-0000-7000-8000-000000000000" }, 404, "conversations.team_not_found", /No team/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await a.call("PATCH", `/api/v1/inboxes/${inbox.id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      const error = (res.json() as { error: { code: string; message: string } }).error;
      if (code) expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect((await a.call("GET", "/api/v1/inboxes")).json()).toEqual(before);
    // another workspace's inbox is not found; an agent may not change or delete inboxes
    expect((await other.call("PATCH", `/api/v1/inboxes/${inbox.id}`, { name: "Mine" })).statusCode).toBe(404);
    expect((await other.call("DELETE", `/api/v1/inboxes/${inbox.id}`)).statusCode).toBe(404);
    const agent = await admin("agent");
    const mine = await agent.call("PATCH", `/api/v1/inboxes/${inbox.id}`, { name: "Mine" });
    expect(mine.statusCode).toBe(403);
  });

  it("checks the settings of a new inbox by its kind; an inbox without settings waits to be connected", async () => {
    const a = await admin();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ kind: "sms", name: "Line", config: { accountSid: "AC123", authToken: "t" } }, /config\.accountSid/],
      [{ kind: "whatsapp", name: "WA", config: { accountSid: SID } }, /config\.authToken/],
      [{ kind: "instagram", name: "IG", config: { verifyToken: "v" } }, /config\.appSecret/],
      [{ kind: "x", name: "X", config: { userId: "12" } }, /config\.consumerSecret/],
      [{ kind: "chat", name: "Chat", config: { emailFallbackMinutes: 0 } }, /config\.emailFallbackMinutes/],
    ];
    for (const [body, message] of bad) {
      const res = await a.call("POST", "/api/v1/inboxes", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: "conversations.invalid_inbox", message: expect.stringMatching(message) },
      });
    }
    expect(((await a.call("GET", "/api/v1/inboxes")).json() as { data: unknown[] }).data).toHaveLength(0);
    const waiting = await a.call("POST", "/api/v1/inboxes", {
      kind: "sms",
      name: "Later",
      address: "+14155550101",
    });
    expect(waiting.statusCode).toBe(201);
  });

  it("deletes an unused inbox; one with conversations is kept, and says why", async () => {
    const a = await admin();
    const unused = (await a.call("POST", "/api/v1/inboxes", { kind: "api", name: "Unused" })).json() as Inbox;
    const used = (await a.call("POST", "/api/v1/inboxes", { kind: "api", name: "Forms" })).json() as Inbox;
    await receiveInbound(
      app.ctx.database.db,
      a.ws,
      { inboxId: used.id, from: [{ kind: "email", value: "ann@example.com" }], text: "Hello" },
      { defaultCountry: "FR" },
    );
    const refused = await a.call("DELETE", `/api/v1/inboxes/${used.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      error: {
        code: "conversations.inbox_in_use_conflict",
        message: expect.stringMatching(
          /"Forms" has 1 conversation; an inbox with conversations cannot be deleted/,
        ),
      },
    });
    expect((await a.call("DELETE", `/api/v1/inboxes/${unused.id}`)).statusCode).toBe(204);
    const left = ((await a.call("GET", "/api/v1/inboxes")).json() as { data: Inbox[] }).data.map(
      (i) => i.name,
    );
    expect(left).toEqual(["Forms"]);
    expect((await a.call("DELETE", `/api/v1/inboxes/${unused.id}`)).statusCode).toBe(404);
  });
});
