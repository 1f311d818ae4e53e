import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { replyToConversation } from "../src/conversations/replies.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { setProvider } from "../src/delivery/deliveries.ts";
import { runDelivery } from "../src/delivery/engine.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { startFakeTwilio } from "./support/fake-twilio.ts";

let db: Db;
const account = { accountSid: `AC${"cd".repeat(16)}`, authToken: "token" };
let twilio: Awaited<ReturnType<typeof startFakeTwilio>>;
beforeAll(async () => {
  db = (await testDatabase()).db;
  twilio = await startFakeTwilio(account);
});
afterAll(async () => {
  await twilio.close();
});

const publicUrl = "https://rapport.example";

/** A customer's SMS to `inboxId`, answered by an agent; answers the form Twilio received. */
async function answer(ws: string, inboxId: string, from: string, sid: string) {
  const inbound = await receiveInbound(
    db,
    ws,
    {
      inboxId,
      from: [{ kind: "phone", value: from }],
      contactAddress: from,
      providerMessageId: sid,
      text: "Hello?",
    },
    { defaultCountry: "FR" },
  );
  const reply = await replyToConversation(
    db,
    ws,
    inbound.conversationId,
    null,
    { text: "Hi, here to help." },
    { publicUrl },
  );
  const deliveryId = reply.delivery?.deliveryId ?? "";
  expect(await runDelivery(db, ws, deliveryId)).toBe("sent");
  const sent = twilio.messages.at(-1);
  expect(sent?.form.To).toBe(from);
  return sent?.form ?? {};
}

describe("SMS replies leave from the number the customer wrote to", () => {
  it("sends from each inbox's own number on the workspace's Twilio account", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await getMessagingSettings(db, ws);
    await setProvider(db, ws, "sms", "twilio", { ...account, from: "+15005550006", baseUrl: twilio.url });
    const sales = await createInbox(db, ws, {
      kind: "sms",
      name: "Sales",
      address: "+15005550007",
      config: account,
    });
    const care = await createInbox(db, ws, {
      kind: "sms",
      name: "Care",
      address: "+15005550008",
      config: account,
    });
    expect((await answer(ws, sales.id, "+33611111111", "SM1")).From).toBe("+15005550007");
    expect((await answer(ws, care.id, "+33622222222", "SM2")).From).toBe("+15005550008");
  });

  it("sends through the inbox's Messaging Service when it has one", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await getMessagingSettings(db, ws);
    await setProvider(db, ws, "sms", "twilio", { ...account, from: "+15005550006", baseUrl: twilio.url });
    const pool = `MG${"12".repeat(16)}`;
    const inbox = await createInbox(db, ws, {
      kind: "sms",
      name: "Pool",
      address: "+15005550009",
      config: { ...account, messagingServiceSid: pool },
    });
    const form = await answer(ws, inbox.id, "+33633333333", "SM3");
    expect(form.MessagingServiceSid).toBe(pool);
    expect(form.From).toBeUndefined();
  });

  it("keeps the workspace's sender for an inbox of another Twilio account", async () => {
    const ws = (await createTestWorkspace()).workspace.id;
    await getMessagingSettings(db, ws);
    await setProvider(db, ws, "sms", "twilio", { ...account, from: "+15005550006", baseUrl: twilio.url });
    const other = await createInbox(db, ws, {
      kind: "sms",
      name: "Other account",
      address: "+15005550010",
      config: { accountSid: `AC${"ef".repeat(16)}`, authToken: "other" },
    });
    expect((await answer(ws, other.id, "+33644444444", "SM4")).From).toBe("+15005550006");
  });
});
