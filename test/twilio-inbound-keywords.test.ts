import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consentLedger, consentOverview } from "../src/consent/ledger.ts";
import { addSuppression, suppressionsFor } from "../src/consent/suppressions.ts";
import { createTopic } from "../src/consent/topics.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { rows } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { findByIdentifier } from "../src/profiles/customers.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "inbox-auth-token-2" };
const NUMBER = "+14155550123";

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
});
afterAll(async () => app?.close());
const db = async () => (await testDatabase()).db;

function postSigned(path: string, form: Form) {
  const url = `${PUBLIC_URL}${path}`;
  const signature = twilioSignature(ACCOUNT.authToken, url, form);
  expect(twilio.validateRequest(ACCOUNT.authToken, signature, url, form)).toBe(true);
  return app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    payload: new URLSearchParams(form).toString(),
  });
}

/** A workspace with two marketing topics SMS and WhatsApp get by default, and a Twilio inbox. */
async function setup(kind: "sms" | "whatsapp" = "sms") {
  const t = await createTestWorkspace();
  for (const key of ["flash-deals", "store-events"]) {
    await createTopic(await db(), t.workspace.id, {
      key,
      names: { en: key },
      kind: "marketing",
      defaults: { sms: "opt_out", whatsapp: "opt_out" },
    });
  }
  const inbox = await createInbox(await db(), t.workspace.id, {
    kind,
    name: "Texts",
    address: "+14155550100",
    config: ACCOUNT,
  });
  return { t, inbox, path: `/webhooks/twilio/${t.workspace.id}/inbox/${inbox.id}` };
}

async function customerId(t: TestWorkspace): Promise<string> {
  const c = await findByIdentifier(await db(), t.workspace.id, "phone", NUMBER, "US");
  if (!c) throw new Error("the sender was not resolved to a customer");
  return c.id;
}

async function channelStates(t: TestWorkspace, channel: "sms" | "whatsapp") {
  const overview = await consentOverview(await db(), t.workspace.id, await customerId(t));
  const marketing = overview.topics.filter((topic) => topic.kind === "marketing");
  return Object.fromEntries(marketing.map((topic) => [topic.key, topic.channels[channel]?.subscribed]));
}

// every marketing topic of the workspace (ours and any it starts with) is off on the channel
async function allOff(t: TestWorkspace, channel: "sms" | "whatsapp"): Promise<boolean> {
  const states = await channelStates(t, channel);
  expect(Object.keys(states)).toEqual(expect.arrayContaining(["flash-deals", "store-events"]));
  return Object.values(states).every((subscribed) => subscribed === false);
}

const suppressed = async (t: TestWorkspace, channel: "sms" | "whatsapp") =>
  suppressionsFor(await db(), t.workspace.id, [{ channel, address: NUMBER }]);

const message = (form: Form) => /<Response><Message>(.*)<\/Message><\/Response>$/.exec(form.body ?? "")?.[1];

describe("Twilio keywords", () => {
  it("STOP unsubscribes SMS from every topic, suppresses the number, confirms in TwiML; START reverses it", async () => {
    const { t, path } = await setup();
    expect((await postSigned(path, fixture("sms"))).statusCode).toBe(200);
    expect(await channelStates(t, "sms")).toMatchObject({ "flash-deals": true, "store-events": true });

    const stop = await postSigned(path, fixture("stop"));
    expect(stop.statusCode).toBe(200);
    expect(stop.headers["content-type"]).toMatch(/^text\/xml/);
    expect(message({ body: stop.body })).toMatch(
      /^You have been unsubscribed .*Reply START to resubscribe\.$/,
    );
    expect(await allOff(t, "sms")).toBe(true);
    expect(await suppressed(t, "sms")).toMatchObject([{ reason: "sms_stop", address: NUMBER }]);
    const { data: ledger } = await consentLedger(await db(), t.workspace.id, await customerId(t), {
      limit: 10,
    });
    expect(ledger).toMatchObject([
      {
        channel: "sms",
        topicId: null,
        status: "unsubscribed",
        source: "sms_keyword",
        proof: { messageId: fixture("stop").MessageSid, keyword: "STOP" },
      },
    ]);
    // Twilio's retry of the STOP answers the same and changes nothing twice
    const replay = await postSigned(path, fixture("stop"));
    expect(replay.body).toBe(stop.body);
    expect(
      (await consentLedger(await db(), t.workspace.id, await customerId(t), { limit: 10 })).data,
    ).toHaveLength(1);

    const start = await postSigned(path, fixture("start"));
    expect(message({ body: start.body })).toMatch(/^You are resubscribed/);
    expect(await channelStates(t, "sms")).toMatchObject({ "flash-deals": true, "store-events": true });
    expect(await suppressed(t, "sms")).toEqual([]);
    // a replayed STOP after START must not unsubscribe again
    await postSigned(path, fixture("stop"));
    expect(await channelStates(t, "sms")).toMatchObject({ "flash-deals": true, "store-events": true });
    expect(await suppressed(t, "sms")).toEqual([]);
  });

  it("keeps the keyword message in the conversation for agents", async () => {
    const { t, path } = await setup();
    await postSigned(path, fixture("stop"));
    const stored = await rows<{ text: string; keyword: string }>(
      await db(),
      sql`SELECT text, metadata->>'keyword' AS keyword FROM conversation_messages WHERE workspace_id = ${t.workspace.id}`,
    );
    expect(stored).toEqual([{ text: "STOP", keyword: "STOP" }]);
  });

  it("START does not lift a suppression STOP did not make", async () => {
    const { t, path } = await setup();
    await addSuppression(await db(), t.workspace.id, { channel: "sms", address: NUMBER, reason: "manual" });
    await postSigned(path, fixture("start"));
    expect(await suppressed(t, "sms")).toMatchObject([{ reason: "manual" }]);
  });

  it("HELP answers help text with the workspace's name and changes no consent", async () => {
    const { t, path } = await setup();
    const res = await postSigned(path, fixture("help"));
    expect(res.statusCode).toBe(200);
    expect(message({ body: res.body })).toContain(`${t.workspace.name}: reply to this message`);
    expect(message({ body: res.body })).toContain("Reply STOP to unsubscribe");
    expect(
      (await consentLedger(await db(), t.workspace.id, await customerId(t), { limit: 10 })).data,
    ).toEqual([]);
    expect(await suppressed(t, "sms")).toEqual([]);
  });

  it("a keyword inside a sentence is an ordinary message", async () => {
    const { t, path } = await setup();
    const res = await postSigned(path, { ...fixture("stop"), Body: "please stop the double charge" });
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await channelStates(t, "sms")).toMatchObject({ "flash-deals": true, "store-events": true });
  });

  it("STOP on WhatsApp unsubscribes and suppresses WhatsApp, not SMS", async () => {
    const { t, path } = await setup("whatsapp");
    const form = { ...fixture("whatsapp"), From: `whatsapp:${NUMBER}`, WaId: NUMBER.slice(1), Body: "stop" };
    const res = await postSigned(path, form);
    expect(message({ body: res.body })).toMatch(/^You have been unsubscribed/);
    expect(await allOff(t, "whatsapp")).toBe(true);
    expect(await channelStates(t, "sms")).toMatchObject({ "flash-deals": true, "store-events": true });
    expect(await suppressed(t, "whatsapp")).toMatchObject([{ reason: "sms_stop" }]);
    expect(await suppressed(t, "sms")).toEqual([]);
  });
});
