import { receiveInbound } from "../../src/conversations/inbound.ts";
import { createInbox } from "../../src/conversations/inboxes.ts";
import type { App } from "../../src/http/app.ts";
import { identify } from "../../src/profiles/identify.ts";
import { foldInbox } from "../../src/profiles/inbox.ts";
import { agentWorkspace } from "./web-channels.ts";

/** Calls the API with the workspace's secret key; throws with the body when the status differs. */
async function call(
  app: App,
  key: string,
  method: "GET" | "POST",
  url: string,
  payload?: unknown,
  status = 200,
) {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, "idempotency-key": `k-${url}-${Date.now()}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  if (res.statusCode !== status) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/**
 * A customer known on several channels, built through the real paths: an SMS, a Messenger
 * message and an X mention from three "people" who are then merged into one; identities and
 * traits from the brand's backend; an event; an SMS opt-out of a topic; one email sent.
 */
export async function customerWorld(app: App) {
  const w = await agentWorkspace(app);
  const { db, ws, secretKey } = w;
  const defaultCountry = app.ctx.config.defaultCountry;
  const sms = await createInbox(db, ws, { kind: "sms", name: "Support SMS", address: "+14155550100" });
  const messenger = await createInbox(db, ws, { kind: "messenger", name: "Facebook page" });
  const x = await createInbox(db, ws, { kind: "x", name: "X account" });
  const phone = "+14155550123";
  const bySms = await receiveInbound(
    db,
    ws,
    {
      inboxId: sms.id,
      from: [{ kind: "phone", value: phone }],
      contactAddress: phone,
      text: "My parcel 5521 never arrived",
    },
    { defaultCountry },
  );
  const byMessenger = await receiveInbound(
    db,
    ws,
    {
      inboxId: messenger.id,
      from: [{ kind: "messenger_psid", value: "psid-77001" }],
      contactAddress: "psid-77001",
      text: "Hello from Messenger about my refund",
    },
    { defaultCountry },
  );
  const byX = await receiveInbound(
    db,
    ws,
    {
      inboxId: x.id,
      from: [
        { kind: "x_id", value: "x-9001" },
        { kind: "x_handle", value: "@Dana_W" },
      ],
      contactAddress: "x-9001",
      text: "Still waiting on that tracking number",
    },
    { defaultCountry },
  );
  const id = bySms.customerId;
  // the agent (through the API) sees they are one person
  await call(app, secretKey, "POST", `/api/v1/customers/${id}/merge`, { mergedId: byMessenger.customerId });
  await call(app, secretKey, "POST", `/api/v1/customers/${id}/merge`, { mergedId: byX.customerId });
  // the brand's backend knows more of them
  await identify(db, ws, {
    identifiers: [
      { kind: "phone", value: phone },
      { kind: "email", value: "dana.whitfield@example.com" },
      { kind: "user_id", value: "user-881" },
      { kind: "anonymous_id", value: "anon-42" },
    ],
    traits: {
      name: "Dana Whitfield",
      plan: "pro",
      address: { street: "12 Harbour Road", city: "San Francisco", zip: "94107", country: "US" },
    },
    reason: "import",
    defaultCountry,
  });
  const track = await app.inject({
    method: "POST",
    url: "/v1/track",
    headers: { authorization: `Basic ${Buffer.from(`${w.writeKey}:`).toString("base64")}` },
    payload: { userId: "user-881", event: "Order Completed", properties: { orderId: "5521", total: 42 } },
  });
  if (track.statusCode !== 200) throw new Error(`the track call answered ${track.statusCode}: ${track.body}`);
  await foldInbox(db, ws, { untilEmpty: true });
  // consent: a marketing topic, which the customer turns off on SMS
  await call(
    app,
    secretKey,
    "POST",
    "/api/v1/topics",
    {
      key: "flash-sales",
      names: { en: "Flash sales", fr: "Ventes flash" },
      kind: "marketing",
      defaults: { email: "opt_out", sms: "opt_out" },
    },
    201,
  );
  await call(app, secretKey, "POST", `/api/v1/customers/${id}/consent`, {
    changes: [{ channel: "sms", topic: "flash-sales", status: "unsubscribed" }],
  });
  const sent = await call(
    app,
    secretKey,
    "POST",
    "/api/v1/messages",
    {
      to: { customerId: id },
      topic: "flash-sales",
      channel: "email",
      content: { subject: "Spring sale", text: "Everything is 20% off this week." },
    },
    202,
  );
  // another workspace's customer, which this agent must not see
  const other = await agentWorkspace(app);
  const stranger = await identify(other.db, other.ws, {
    identifiers: [{ kind: "email", value: "stranger@example.com" }],
    reason: "import",
    defaultCountry,
  });
  return {
    ...w,
    customerId: id,
    conversations: {
      sms: bySms.conversationId,
      messenger: byMessenger.conversationId,
      x: byX.conversationId,
    },
    deliveryId: String(sent.deliveryId),
    strangerId: stranger.customerId,
  };
}
