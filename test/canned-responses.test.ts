import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { cannedResponseRoutes } from "../src/http/routes/canned-responses.ts";
import { uuidv7 } from "../src/ids.ts";
import { hashPassword } from "../src/platform/passwords.ts";
import type { Role } from "../src/platform/roles.ts";
import { createUser } from "../src/platform/users.ts";
import { createTestWorkspace, testContext } from "./support/factories.ts";
import { PASSWORD } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  const { buildApp } = await import("../src/http/app.ts");
  app = await buildApp(await testContext());
  // the app registers these routes itself once wired in; until then the test adds them
  if (!app.hasRoute({ method: "GET", url: "/api/v1/canned-responses" })) {
    await app.withTypeProvider<ZodTypeProvider>().register(cannedResponseRoutes);
  }
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

type Method = "GET" | "POST" | "PATCH" | "DELETE";
let signIns = 1;

/** A member of the workspace, signed in, and a caller that speaks with their session. */
async function member(ws: string, role: Role, name = "") {
  const email = `${role}-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(db, {
    workspaceId: ws,
    email,
    role,
    name,
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  // each member signs in from an address of their own: sign-ins are rate limited per address
  const login = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
    remoteAddress: `10.${(signIns >> 8) & 255}.${signIns++ & 255}.1`,
  });
  const cookie = login.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${login.body}`);
  const call = (method: Method, url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      cookies: { rapport_session: cookie },
      headers: { origin: "http://localhost:3000" },
      ...(payload ? { payload } : {}),
    });
  return { user, call };
}

async function workspace() {
  const t = await createTestWorkspace();
  const ws = t.workspace.id;
  const admin = await member(ws, "admin", "Grace Hopper");
  const agent = await member(ws, "agent", "Linus Lee");
  const withKey = (method: Method, url: string, payload?: Record<string, unknown>) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${t.secretKey}` },
      ...(payload ? { payload } : {}),
    });
  const create = async (shortcut: string, body = "Thanks for waiting.", title = shortcut) => {
    const res = await admin.call("POST", "/api/v1/canned-responses", { shortcut, title, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  return { ws, admin, agent, withKey, create };
}

describe("canned responses", () => {
  it("are described in the OpenAPI document, with the conversation counts", async () => {
    const paths = Object.keys(
      z.object({ paths: z.record(z.string(), z.unknown()) }).parse(app.swagger()).paths,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "/api/v1/canned-responses",
        "/api/v1/canned-responses/{id}",
        "/api/v1/canned-responses/{id}/render",
        "/api/v1/conversations/counts",
      ]),
    );
  });

  it("admins create, change and delete them; agents read them", async () => {
    const w = await workspace();
    const created = await w.create(
      "refund-delay",
      "Refunds take 3 days, {{ customer.first_name }}.",
      "Refund delay",
    );
    expect(created).toMatchObject({
      shortcut: "refund-delay",
      title: "Refund delay",
      body: "Refunds take 3 days, {{ customer.first_name }}.",
      createdBy: w.admin.user.id,
    });
    const url = `/api/v1/canned-responses/${created.id}`;
    expect((await w.agent.call("GET", url)).json()).toEqual(created);
    expect((await w.agent.call("GET", "/api/v1/canned-responses")).json().data).toEqual([created]);

    for (const [method, payload] of [
      ["POST", { shortcut: "x", title: "x", body: "x" }],
      ["PATCH", { title: "Mine now" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await w.agent.call(method, method === "POST" ? "/api/v1/canned-responses" : url, payload);
      expect(res.statusCode, method).toBe(403);
      expect(res.json().error.code).toBe("auth.forbidden");
    }

    const patched = await w.admin.call("PATCH", url, {
      title: "Refunds: the delay",
      shortcut: "Refund-Wait",
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      title: "Refunds: the delay",
      shortcut: "Refund-Wait",
      body: created.body,
    });
    // a secret key acts for the whole workspace
    expect(
      (await w.withKey("POST", "/api/v1/canned-responses", { shortcut: "hi", title: "Hi", body: "Hi" }))
        .statusCode,
    ).toBe(201);
    expect((await w.admin.call("DELETE", url)).statusCode).toBe(204);
    expect((await w.agent.call("GET", url)).statusCode).toBe(404);
    expect(
      (await w.agent.call("GET", "/api/v1/canned-responses"))
        .json()
        .data.map((c: { shortcut: string }) => c.shortcut),
    ).toEqual(["hi"]);
  });

  it("refuses bad input with a clear error and stores nothing", async () => {
    const w = await workspace();
    await w.create("refund-delay");
    const post = (payload: Record<string, unknown>) =>
      w.admin.call("POST", "/api/v1/canned-responses", payload);
    const cases: Array<[Record<string, unknown>, number, string, RegExp]> = [
      [{ shortcut: "refund delay", title: "t", body: "b" }, 400, "request.invalid", /shortcut/],
      [{ shortcut: "/refund", title: "t", body: "b" }, 400, "request.invalid", /shortcut/],
      [{ shortcut: "ok", title: "", body: "b" }, 400, "request.invalid", /title/],
      [{ shortcut: "ok", title: "t" }, 400, "request.invalid", /body/],
      [
        { shortcut: "REFUND-delay", title: "t", body: "b" },
        409,
        "canned_responses.shortcut_already_exists",
        /refund/i,
      ],
      [
        { shortcut: "ok", title: "t", body: "{% if %}" },
        422,
        "canned_responses.template_unprocessable",
        /^body: .+line 1/,
      ],
      [
        { shortcut: "ok", title: "t", body: "{{ name | shout }}" },
        422,
        "canned_responses.template_unprocessable",
        /shout/,
      ],
      [
        { shortcut: "ok", title: "t", body: "{% include 'secrets' %}" },
        422,
        "canned_responses.template_unprocessable",
        /include/,
      ],
    ];
    for (const [payload, status, code, message] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.json().error.message).toMatch(message);
    }
    expect((await w.agent.call("GET", "/api/v1/canned-responses")).json().data).toHaveLength(1);

    const other = await w.create("other");
    const url = `/api/v1/canned-responses/${other.id}`;
    const taken = await w.admin.call("PATCH", url, { shortcut: "Refund-Delay" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("canned_responses.shortcut_already_exists");
    const broken = await w.admin.call("PATCH", url, { body: "{% for %}" });
    expect(broken.statusCode).toBe(422);
    const empty = await w.admin.call("PATCH", url, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toMatch(/shortcut, title or body/);
    expect((await w.agent.call("GET", url)).json()).toEqual(other);
  });

  it("hides another workspace's canned responses: 404 everywhere", async () => {
    const w = await workspace();
    const elsewhere = await workspace();
    const theirs = await elsewhere.create("secret-offer", "20% off");
    const url = `/api/v1/canned-responses/${theirs.id}`;
    for (const res of [
      await w.agent.call("GET", url),
      await w.admin.call("PATCH", url, { title: "x" }),
      await w.admin.call("DELETE", url),
      await w.agent.call("POST", `${url}/render`, { conversationId: uuidv7() }),
      await w.agent.call("GET", "/api/v1/canned-responses/not-an-id"),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("canned_responses.not_found");
    }
    expect((await w.agent.call("GET", "/api/v1/canned-responses?q=secret")).json().data).toEqual([]);
    expect((await elsewhere.agent.call("GET", url)).json().title).toBe("secret-offer");
  });

  it("searches by shortcut prefix first, then by title or body", async () => {
    const w = await workspace();
    await w.create("refund-delay", "Your refund is on its way.", "Refund delay");
    await w.create("refund-policy", "See our policy.", "Policy");
    await w.create("shipping", "Parcels ship in 24h; a refund follows a return.", "Shipping");
    await w.create("discount", "Use code 100%OFF.", "Discount");
    await w.create("apology", "Sorry the refund takes long.", "Apology");
    const search = async (q: string) =>
      (await w.agent.call("GET", `/api/v1/canned-responses?q=${encodeURIComponent(q)}`))
        .json()
        .data.map((c: { shortcut: string }) => c.shortcut);
    // shortcuts that begin with it first, then those whose title or body holds it
    expect(await search("ref")).toEqual(["refund-delay", "refund-policy", "apology", "shipping"]);
    expect(await search("/REFUND-")).toEqual(["refund-delay", "refund-policy"]);
    expect(await search("parcels")).toEqual(["shipping"]);
    expect(await search("policy")).toEqual(["refund-policy"]);
    expect(await search("100%")).toEqual(["discount"]);
    expect(await search("%")).toEqual(["discount"]);
    expect(await search("nothing like it")).toEqual([]);
    expect(await search("")).toEqual(["apology", "discount", "refund-delay", "refund-policy", "shipping"]);
    const tooLong = await w.agent.call("GET", `/api/v1/canned-responses?q=${"x".repeat(201)}`);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toMatch(/q/);
  });

  it("renders the body for the conversation's customer and the agent", async () => {
    const w = await workspace();
    const inbox = await createInbox(db, w.ws, { kind: "api", name: "App" });
    const { conversationId } = await receiveInbound(
      db,
      w.ws,
      {
        inboxId: inbox.id,
        from: [{ kind: "email", value: "ada@example.com" }],
        text: "Where is my refund?",
        traits: { name: "Ada Lovelace", plan: "pro" },
      },
      { defaultCountry: "FR" },
    );
    const canned = await w.create(
      "refund-delay",
      "Hi {{ customer.first_name }} ({{ customer.email }}, {{ customer.traits.plan }}), {{ agent.first_name }} here " +
        "about #{{ conversation.number }}.{% if customer.traits.vip %} VIP{% endif %} {{ customer.traits.constructor }}",
    );
    const res = await w.agent.call("POST", `/api/v1/canned-responses/${canned.id}/render`, {
      conversationId,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ text: "Hi Ada (ada@example.com, pro), Linus here about #1. " });

    // with a secret key there is no agent: agent.* is empty
    const plain = await w.create("sign-off", "{{ customer.name }}: {{ agent.name | default: 'the team' }}");
    const byKey = await w.withKey("POST", `/api/v1/canned-responses/${plain.id}/render`, { conversationId });
    expect(byKey.json()).toEqual({ text: "Ada Lovelace: the team" });
  });

  it("answers 422 with Liquid's message when rendering fails, and 404 for another workspace's conversation", async () => {
    const w = await workspace();
    const elsewhere = await workspace();
    const inbox = await createInbox(db, elsewhere.ws, { kind: "api", name: "App" });
    const { conversationId: theirs } = await receiveInbound(
      db,
      elsewhere.ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: "x@example.com" }], text: "Hi" },
      { defaultCountry: "FR" },
    );
    const ok = await w.create("ok", "Hi");
    const notFound = await w.agent.call("POST", `/api/v1/canned-responses/${ok.id}/render`, {
      conversationId: theirs,
    });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json().error.code).toBe("conversations.conversation_not_found");
    const bad = await w.agent.call("POST", `/api/v1/canned-responses/${ok.id}/render`, {
      conversationId: "42",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/conversationId/);

    const ownInbox = await createInbox(db, w.ws, { kind: "api", name: "App" });
    const { conversationId } = await receiveInbound(
      db,
      w.ws,
      { inboxId: ownInbox.id, from: [{ kind: "email", value: "y@example.com" }], text: "Hi" },
      { defaultCountry: "FR" },
    );
    const runaway = await w.create(
      "runaway",
      '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
    );
    const res = await w.agent.call("POST", `/api/v1/canned-responses/${runaway.id}/render`, {
      conversationId,
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: "canned_responses.template_unprocessable",
      details: { message: "memory alloc limit exceeded" },
    });
    expect(res.json().error.message).toMatch(/^body: memory alloc limit exceeded \(line 1, column \d+\)$/);
  });
});
