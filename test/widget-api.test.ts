import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { getConversation, listConversations } from "../src/conversations/conversations.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { customerMerges, findByIdentifier } from "../src/profiles/customers.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { chatInbox, postMessage, startVisitor, visitorGet } from "./support/widget-client.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

/** Every identity and conversation of a workspace: "nothing stored" is checked against it. */
async function footprint(ws: string) {
  const [r] = await rows<{ identities: number; conversations: number; customers: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM identities WHERE workspace_id = ${ws}) AS identities,
          (SELECT count(*)::int FROM conversations WHERE workspace_id = ${ws}) AS conversations,
          (SELECT count(*)::int FROM customers WHERE workspace_id = ${ws}) AS customers`,
  );
  if (!r) throw new Error("no footprint");
  return r;
}

describe("the widget's files", () => {
  it("serves a loader under 10 KB gzipped, embeddable from any site, while the agent app stays unframeable", async () => {
    const res = await app.inject({ method: "GET", url: "/widget/v1/loader.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("javascript");
    expect(res.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    const gzipped = gzipSync(res.rawPayload, { level: 9 }).length;
    expect(gzipped).toBeLessThan(10 * 1024);
    // minified: one bundle, no TypeScript left
    expect(res.body).not.toContain("import ");
    const zipped = await app.inject({
      method: "GET",
      url: "/widget/v1/loader.js",
      headers: { "accept-encoding": "gzip, br" },
    });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.rawPayload.length).toBeLessThan(10 * 1024);
    const again = await app.inject({
      method: "GET",
      url: "/widget/v1/loader.js",
      headers: { "if-none-match": String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);

    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await chatInbox(db, ws, { allowedOrigins: ["https://www.melodia.example"] });
    const frame = await app.inject({
      method: "GET",
      url: `/widget/v1/frame?workspace=${ws}&inbox=${inbox.id}`,
      headers: { "accept-language": "fr-FR,fr;q=0.9" },
    });
    expect(frame.statusCode).toBe(200);
    expect(frame.headers["x-frame-options"]).toBeUndefined();
    expect(frame.headers["content-security-policy"]).toContain("frame-ancestors https://www.melodia.example");
    expect(frame.body).toContain('<html lang="fr">');
    const js = /src="(\/widget\/v1\/frame\.js\?v=[0-9a-f]+)"/.exec(frame.body)?.[1];
    expect(js).toBeDefined();
    const script = await app.inject({ method: "GET", url: js ?? "" });
    expect(script.statusCode).toBe(200);
    expect(script.headers["cache-control"]).toContain("immutable");

    const agentPage = await app.inject({ method: "GET", url: "/login" });
    expect(agentPage.headers["x-frame-options"]).toBe("SAMEORIGIN");
    const spec = await app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(Object.keys(spec.json().paths)).toEqual(
      expect.arrayContaining([
        "/widget/v1/sessions",
        "/widget/v1/messages",
        "/api/v1/conversations/{id}/typing",
      ]),
    );
  });

  it("answers 404 for a frame of an unknown inbox, another kind's or another workspace's", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const other = (await createTestWorkspace()).workspace.id;
    const theirs = await chatInbox(db, other);
    const email = await createInbox(db, ws, { kind: "email", name: "mail", address: "help@melodia.example" });
    for (const inbox of [theirs.id, email.id, "not-a-uuid", "0198f5a0-0000-7000-8000-000000000000"]) {
      const res = await app.inject({ method: "GET", url: `/widget/v1/frame?workspace=${ws}&inbox=${inbox}` });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("chat.inbox_not_found");
    }
  });
});

describe("visitor sessions and identity", () => {
  it("gives an anonymous visitor a profile, and merges it into the known customer once they identify", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await chatInbox(db, ws, { identityVerification: "enforced" });
    const known = await identify(db, ws, {
      identifiers: [
        { kind: "user_id", value: "u-42" },
        { kind: "email", value: "lea@melodia.example" },
      ],
      traits: { first_name: "Léa" },
      reason: "test",
      defaultCountry: "FR",
    });
    const anon = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    expect(anon.verified).toBe(false);
    expect(anon.customerId).not.toBe(known.customerId);
    const sent = await postMessage(app, anon.token, "Hello, my payment failed", {
      pageUrl: "https://www.melodia.example/account",
      utm: { source: "newsletter" },
    });
    expect(sent.statusCode).toBe(201);
    const { conversationId } = sent.json();
    const conversation = await getConversation(db, ws, conversationId);
    expect(conversation).toMatchObject({
      customerId: anon.customerId,
      contactAddress: anon.anonymousId,
      channel: "in_app",
      source: { pageUrl: "https://www.melodia.example/account", utm: { source: "newsletter" } },
    });

    const settings = await getMessagingSettings(db, ws);
    const proven = await startVisitor(app, {
      workspaceId: ws,
      inboxId: inbox.id,
      anonymousId: anon.anonymousId,
      userId: "u-42",
      userHash: appUserHash(settings.identitySecret, "u-42"),
    });
    expect(proven).toMatchObject({
      verified: true,
      customerId: known.customerId,
      anonymousId: anon.anonymousId,
    });
    // one profile now: the anonymous history joined the customer, and the merge is recorded
    expect((await getConversation(db, ws, conversationId)).customerId).toBe(known.customerId);
    const holder = await findByIdentifier(db, ws, "anonymous_id", anon.anonymousId, "FR");
    expect(holder?.id).toBe(known.customerId);
    const merges = await customerMerges(db, ws, known.customerId);
    expect(merges.some((m) => m.mergedId === anon.customerId && m.reason === "chat.session")).toBe(true);
    // the proven visitor reads the conversation started anonymously in this browser
    const list = await visitorGet(app, proven.token, "/widget/v1/conversations");
    expect(list.json().data.map((c: { id: string }) => c.id)).toEqual([conversationId]);
    const history = await visitorGet(
      app,
      proven.token,
      `/widget/v1/conversations/${conversationId}/messages`,
    );
    expect(history.json().data).toMatchObject([{ direction: "inbound", text: "Hello, my payment failed" }]);
  });

  it("refuses a forged identity hash (401) and stores nothing; enforced inboxes refuse a missing one", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const enforced = await chatInbox(db, ws, { identityVerification: "enforced" });
    const optional = await chatInbox(db, ws, { identityVerification: "optional" });
    const before = await footprint(ws);
    const forged = appUserHash("not-the-secret-at-all", "u-42");
    for (const inbox of [enforced, optional]) {
      const res = await app.inject({
        method: "POST",
        url: "/widget/v1/sessions",
        payload: {
          workspaceId: ws,
          inboxId: inbox.id,
          userId: "u-42",
          userHash: forged,
          email: "x@melodia.example",
        },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("chat.identity_unauthorized");
      expect(res.json().error.message).toContain("HMAC-SHA256");
    }
    const missing = await app.inject({
      method: "POST",
      url: "/widget/v1/sessions",
      payload: { workspaceId: ws, inboxId: enforced.id, userId: "u-42" },
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe("chat.identity_unauthorized");
    expect(await footprint(ws)).toEqual(before);
  });

  it("keeps an unproven user id as a claim on an optional inbox, never joining the account", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await chatInbox(db, ws);
    const account = await identify(db, ws, {
      identifiers: [{ kind: "user_id", value: "u-7" }],
      reason: "test",
      defaultCountry: "FR",
    });
    const claimed = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id, userId: "u-7" });
    expect(claimed.verified).toBe(false);
    expect(claimed.customerId).not.toBe(account.customerId);
    const profile = await findByIdentifier(db, ws, "anonymous_id", claimed.anonymousId, "FR");
    expect(profile?.traits.claimed_user_id).toBe("u-7");
    expect(profile?.identities.some((i) => i.kind === "user_id")).toBe(false);
  });

  it("shows a visitor who typed an account's email nothing of that account's chats", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await chatInbox(db, ws);
    const settings = await getMessagingSettings(db, ws);
    await identify(db, ws, {
      identifiers: [
        { kind: "user_id", value: "u-9" },
        { kind: "email", value: "owner@melodia.example" },
      ],
      reason: "test",
      defaultCountry: "FR",
    });
    const owner = await startVisitor(app, {
      workspaceId: ws,
      inboxId: inbox.id,
      userId: "u-9",
      userHash: appUserHash(settings.identitySecret, "u-9"),
    });
    const secret = await postMessage(app, owner.token, "my card ends in 4242");
    const intruder = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    const email = await app.inject({
      method: "POST",
      url: "/widget/v1/email",
      headers: { authorization: `Bearer ${intruder.token}` },
      payload: { email: "owner@melodia.example" },
    });
    expect(email.statusCode).toBe(200);
    // resolved like an inbound email's sender: one profile…
    const joined = await findByIdentifier(db, ws, "anonymous_id", intruder.anonymousId, "FR");
    expect(joined?.id).toBe(owner.customerId);
    // …but the intruder's token reads only what their browser wrote
    expect((await visitorGet(app, intruder.token, "/widget/v1/conversations")).json().data).toEqual([]);
    const peek = await visitorGet(
      app,
      intruder.token,
      `/widget/v1/conversations/${secret.json().conversationId}/messages`,
    );
    expect(peek.statusCode).toBe(404);
    const own = await postMessage(app, intruder.token, "hello?");
    expect(own.json().conversationId).not.toBe(secret.json().conversationId);
    expect((await visitorGet(app, intruder.token, "/widget/v1/inbox")).json().data).toEqual([]);
  });
});

describe("bad input", () => {
  it("explains an unknown inbox, an oversized or empty message and a bad token, storing nothing", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    const inbox = await chatInbox(db, ws);
    const unknown = await app.inject({
      method: "POST",
      url: "/widget/v1/sessions",
      payload: { workspaceId: ws, inboxId: "0198f5a0-0000-7000-8000-000000000000" },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: "chat.inbox_not_found" });
    expect(unknown.json().error.message).toContain("data-inbox");

    const visitor = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    const before = await footprint(ws);
    const big = await postMessage(app, visitor.token, "x".repeat(4001));
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatchObject({ code: "chat.message_too_large", details: { limit: 4000 } });
    const huge = await postMessage(app, visitor.token, "x".repeat(40_000));
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe("request.too_large");
    const empty = await postMessage(app, visitor.token, "   ");
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe("chat.empty_message");

    const [body, sig] = visitor.token.split(".");
    const claims = JSON.parse(Buffer.from(body ?? "", "base64url").toString("utf8"));
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, anonymousId: "someone-elses-id" })).toString("base64url")}.${sig}`;
    // a token rewritten to claim someone's user id: a forged identity, refused like any forgery
    const impostor = `${Buffer.from(JSON.stringify({ ...claims, userId: "u-42" })).toString("base64url")}.${sig}`;
    for (const token of ["", "garbage", tampered, impostor, `${body}.${"A".repeat(43)}`]) {
      const res = await postMessage(app, token, "hello");
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("chat.token_unauthorized");
      expect(res.json().error.message).toContain("POST /widget/v1/sessions");
    }
    const other = await chatInbox(db, ws);
    const elsewhere = await app.inject({
      method: "GET",
      url: `/widget/v1/conversations`,
      headers: {
        authorization: `Bearer ${(await startVisitor(app, { workspaceId: ws, inboxId: other.id })).token}`,
      },
    });
    expect(elsewhere.json().data).toEqual([]);
    expect((await listConversations(db, ws, { inboxId: inbox.id })).data).toEqual([]);
    expect((await footprint(ws)).conversations).toBe(before.conversations);
  });
});
