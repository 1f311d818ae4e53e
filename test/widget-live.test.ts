import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendUnseenReplyByEmail } from "../src/channels/chat/fallback.ts";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { setAvailability } from "../src/conversations/assignment.ts";
import { type Db, rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { getDelivery } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { sendMessage } from "../src/delivery/send.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";
import { chatInbox, openFeed, postMessage, startVisitor, visitorGet } from "./support/widget-client.ts";

let db: Db;
let app: App;
let wsBase: string;
beforeAll(async () => {
  db = (await testDatabase()).db;
  app = await testApp();
  wsBase = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("http", "ws");
});
afterAll(async () => {
  await app.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** An agent's reply through the REST API; answers its delivery id. */
async function agentReply(secretKey: string, conversationId: string, text: string): Promise<string> {
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/conversations/${conversationId}/messages`,
    headers: bearer(secretKey),
    payload: { text },
  });
  expect(res.statusCode, res.body).toBe(201);
  const deliveryId = res.json().delivery?.deliveryId;
  expect(res.json().delivery).toMatchObject({ decision: "send", channel: "in_app" });
  return deliveryId;
}

async function fallbackJob(deliveryId: string) {
  const [job] = await rows<{ task: string; inMinutes: number }>(
    db,
    sql`SELECT task, (extract(epoch FROM run_at - now()) / 60)::float8 AS "inMinutes" FROM jobs
        WHERE dedupe_key = ${`chat.email_fallback:${deliveryId}`}`,
  );
  return job;
}

describe("the widget's live conversation", () => {
  it("carries the visitor's message to agents, agents' typing and reply back to the widget at once", async () => {
    const t = await createTestWorkspace();
    const ws = t.workspace.id;
    const inbox = await chatInbox(db, ws);
    const visitor = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    const widget = openFeed(`${wsBase}/widget/v1/socket?token=${encodeURIComponent(visitor.token)}`);
    const agents = openFeed(`${wsBase}/api/v1/realtime`, bearer(t.secretKey));
    await Promise.all([widget.opened, agents.opened]);

    const sent = await postMessage(app, visitor.token, "Is my order shipped?");
    const { conversationId } = sent.json();
    await agents.next(
      "the agents' message.created",
      (m) => m.type === "message.created" && m.conversationId === conversationId,
    );
    // the visitor's other tabs see their own message too
    await widget.next("the echo", (m) => m.type === "message" && m.direction === "inbound");

    const typing = await app.inject({
      method: "POST",
      url: `/api/v1/conversations/${conversationId}/typing`,
      headers: bearer(t.secretKey),
      payload: { typing: true },
    });
    expect(typing.statusCode).toBe(204);
    await widget.next(
      "the agent's typing",
      (m) => m.type === "typing" && m.from === "agent" && m.typing === true,
    );

    widget.socket.send(JSON.stringify({ type: "typing", conversationId, typing: true }));
    await agents.next(
      "the customer's typing",
      (m) => m.type === "typing" && m.from === "customer" && m.conversationId === conversationId,
    );

    const deliveryId = await agentReply(t.secretKey, conversationId, "Yes, it left this morning 📦");
    // the delivery job runs after the REST answer, in the worker
    expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
    const reply = await widget.next("the reply", (m) => m.type === "message" && m.direction === "outbound");
    expect(reply).toMatchObject({ conversationId, text: "Yes, it left this morning 📦", deliveryId });
    const delivery = await getDelivery(db, ws, deliveryId);
    expect(delivery).toMatchObject({
      channel: "in_app",
      provider: "chat",
      address: visitor.anonymousId,
      state: "sent",
    });
    const [via] = await rows<{ kind: string }>(
      db,
      sql`SELECT request->'via'->'target'->>'kind' AS kind FROM deliveries WHERE workspace_id = ${ws} AND id = ${deliveryId}`,
    );
    expect(via?.kind).toBe("chat");
    const history = await visitorGet(
      app,
      visitor.token,
      `/widget/v1/conversations/${conversationId}/messages`,
    );
    expect(history.json().data.map((m: { text: string }) => m.text)).toEqual([
      "Is my order shipped?",
      "Yes, it left this morning 📦",
    ]);

    // seen in the widget: the ledger says opened, and no email follows
    expect((await fallbackJob(deliveryId))?.task).toBe("chat.email_fallback");
    const seen = await app.inject({
      method: "POST",
      url: "/widget/v1/seen",
      headers: bearer(visitor.token),
      payload: { deliveryIds: [deliveryId] },
    });
    expect(seen.json()).toEqual({ recorded: [deliveryId], pending: [] });
    expect((await getDelivery(db, ws, deliveryId)).state).toBe("opened");
    expect(await sendUnseenReplyByEmail(db, ws, deliveryId)).toEqual({ action: "none", reason: "seen" });
    widget.socket.close();
    agents.socket.close();
  });

  it("announces messages too long for the bus without their text, and the history has them", async () => {
    const t = await createTestWorkspace();
    const ws = t.workspace.id;
    const inbox = await chatInbox(db, ws);
    const visitor = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    const widget = openFeed(`${wsBase}/widget/v1/socket?token=${encodeURIComponent(visitor.token)}`);
    await widget.opened;
    const long = "🎵".repeat(2000);
    const sent = await postMessage(app, visitor.token, long);
    expect(sent.statusCode).toBe(201);
    const { conversationId } = sent.json();
    const echo = await widget.next("the echo", (m) => m.type === "message" && m.direction === "inbound");
    expect(echo).toMatchObject({ partial: true, text: "" });
    const answer = "A long answer. ".repeat(700);
    const deliveryId = await agentReply(t.secretKey, conversationId, answer);
    expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
    const reply = await widget.next("the reply", (m) => m.type === "message" && m.direction === "outbound");
    expect(reply).toMatchObject({ partial: true, deliveryId });
    const history = await visitorGet(
      app,
      visitor.token,
      `/widget/v1/conversations/${conversationId}/messages`,
    );
    expect(history.json().data.map((m: { text: string }) => m.text)).toEqual([long, answer.trim()]);
    widget.socket.close();
  });

  it("closes a socket whose token is refused, so the widget starts a new session", async () => {
    const feed = openFeed(`${wsBase}/widget/v1/socket?token=not-a-token`);
    await expect(feed.opened).rejects.toThrow(/closed: 4401/);
  });

  it("says when nobody is online, takes an email, and emails a reply the visitor did not see", async () => {
    const agent = await signedIn(app, "agent");
    const ws = agent.workspace.id;
    const inbox = await chatInbox(db, ws, { emailFallbackMinutes: 7 });
    const visitor = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    expect(visitor).toMatchObject({ online: false, emailKnown: false });
    const sent = await postMessage(app, visitor.token, "Anyone there?");
    const { conversationId } = sent.json();
    const bad = await app.inject({
      method: "POST",
      url: "/widget/v1/email",
      headers: bearer(visitor.token),
      payload: { email: "not an email" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("profiles.invalid_email");
    const email = await app.inject({
      method: "POST",
      url: "/widget/v1/email",
      headers: bearer(visitor.token),
      payload: { email: "Night.Owl@Melodia.example" },
    });
    expect(email.json()).toEqual({ emailKnown: true });

    await setAvailability(db, ws, agent.user.id, "online");
    const again = await startVisitor(app, {
      workspaceId: ws,
      inboxId: inbox.id,
      anonymousId: visitor.anonymousId,
    });
    expect(again).toMatchObject({ online: true, emailKnown: true, customerId: visitor.customerId });

    const deliveryId = await agentReply(
      agent.secretKey,
      conversationId,
      "Sorry for the wait: here is your answer.",
    );
    expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
    const job = await fallbackJob(deliveryId);
    expect(job?.inMinutes).toBeGreaterThan(6.5);
    expect(job?.inMinutes).toBeLessThanOrEqual(7);

    const outcome = await sendUnseenReplyByEmail(db, ws, deliveryId);
    expect(outcome.action).toBe("emailed");
    const emailed = outcome.action === "emailed" ? outcome.delivery : undefined;
    expect(emailed).toMatchObject({ decision: "send", channel: "email" });
    const mail = await getDelivery(db, ws, emailed?.deliveryId ?? "");
    expect(mail).toMatchObject({
      address: "night.owl@melodia.example",
      topic: "support",
      sourceRef: conversationId,
    });
    expect(mail.content?.text).toContain("Sorry for the wait: here is your answer.");
    expect(mail.content?.subject).toBe("New reply from Melodia Support");
    // a retried job sends nothing more
    const retried = await sendUnseenReplyByEmail(db, ws, deliveryId);
    expect(retried.action === "emailed" && retried.delivery).toMatchObject({
      deliveryId: mail.id,
      replayed: true,
    });

    // a visitor Rapport cannot email is left alone
    const stranger = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    const theirs = (await postMessage(app, stranger.token, "hi")).json().conversationId;
    const unseen = await agentReply(agent.secretKey, theirs, "Hello!");
    expect(await runDelivery(db, ws, unseen)).toBe("sent");
    expect(await sendUnseenReplyByEmail(db, ws, unseen)).toEqual({ action: "none", reason: "no_email" });
  });

  it("shows a proven visitor their message center, and an anonymous one nothing of it", async () => {
    const t = await createTestWorkspace();
    const ws = t.workspace.id;
    const inbox = await chatInbox(db, ws);
    const settings = await getMessagingSettings(db, ws);
    const visitor = await startVisitor(app, {
      workspaceId: ws,
      inboxId: inbox.id,
      userId: "u-1",
      userHash: appUserHash(settings.identitySecret, "u-1"),
    });
    const out = await sendMessage(
      db,
      ws,
      {
        customerId: visitor.customerId,
        topic: "account",
        channel: "in_app",
        content: { title: "Your invoice", text: "March is ready" },
        idempotencyKey: `mc-${visitor.customerId}`,
        source: "api",
      },
      { publicUrl: "http://localhost" },
    );
    await runDelivery(db, ws, out.deliveryId);
    const inboxList = await visitorGet(app, visitor.token, "/widget/v1/inbox");
    expect(inboxList.json()).toMatchObject({
      unread: 1,
      data: [{ title: "Your invoice", body: "March is ready" }],
    });
    const id = inboxList.json().data[0].id;
    const read = await app.inject({
      method: "POST",
      url: `/widget/v1/inbox/${id}/read`,
      headers: bearer(visitor.token),
    });
    expect(read.json()).toMatchObject({ id, state: "read" });
    const anonymous = await startVisitor(app, { workspaceId: ws, inboxId: inbox.id });
    expect((await visitorGet(app, anonymous.token, "/widget/v1/inbox")).json()).toEqual({
      data: [],
      nextCursor: null,
      unread: 0,
    });
    const refused = await app.inject({
      method: "POST",
      url: `/widget/v1/inbox/${id}/read`,
      headers: bearer(anonymous.token),
    });
    expect(refused.statusCode).toBe(404);
  });
});
