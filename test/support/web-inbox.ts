import { readFileSync } from "node:fs";
import { getMessagingSettings } from "../../src/consent/settings.ts";
import { createInbox } from "../../src/conversations/inboxes.ts";
import { testDatabase } from "../../src/db/testing.ts";
import { setProvider } from "../../src/delivery/deliveries.ts";
import { twilioSignature } from "../../src/delivery/providers/twilio.ts";
import type { App } from "../../src/http/app.ts";
import { uuidv7 } from "../../src/ids.ts";
import { hashPassword } from "../../src/platform/passwords.ts";
import { createUser } from "../../src/platform/users.ts";
import { createTestWorkspace } from "./factories.ts";
import type { FakeTwilio } from "./fake-twilio.ts";
import { PASSWORD } from "./sign-in.ts";

export const TWILIO_ACCOUNT = {
  accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80",
  authToken: "inbox-auth-token-1",
};

/**
 * An SMS inbox on the fake Twilio in workspace `ws` (the workspace's SMS provider too);
 * `textIn` posts a customer's SMS to the inbox's webhook, signed as Twilio signs it.
 */
export async function smsInbox(app: App, fake: FakeTwilio, ws: string) {
  const { db } = await testDatabase();
  await getMessagingSettings(db, ws);
  await setProvider(db, ws, "sms", "twilio", { ...TWILIO_ACCOUNT, from: "+14155550199", baseUrl: fake.url });
  const inbox = await createInbox(db, ws, {
    kind: "sms",
    name: "Support SMS",
    address: "+14155550100",
    config: TWILIO_ACCOUNT,
  });
  const fixture: Record<string, string> = JSON.parse(readFileSync("test/fixtures/twilio/sms.json", "utf8"));
  const path = `/webhooks/twilio/${ws}/inbox/${inbox.id}`;
  const textIn = async (from: string, body: string) => {
    const sid = `SM${uuidv7().replaceAll("-", "")}`;
    const form = { ...fixture, From: from, Body: body, MessageSid: sid, SmsSid: sid, SmsMessageSid: sid };
    const url = `${app.ctx.config.publicUrl}${path}`;
    const res = await app.inject({
      method: "POST",
      url: path,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSignature(TWILIO_ACCOUNT.authToken, url, form),
      },
      payload: new URLSearchParams(form).toString(),
    });
    if (res.statusCode !== 200) throw new Error(`the SMS webhook answered ${res.statusCode}: ${res.body}`);
  };
  return { inbox, textIn };
}

/** A workspace with an agent who signs in by password and an SMS inbox on the fake Twilio (see smsInbox). */
export async function smsWorkspace(app: App, fake: FakeTwilio) {
  const t = await createTestWorkspace(app.ctx.database);
  const { db } = await testDatabase();
  const ws = t.workspace.id;
  const { inbox, textIn } = await smsInbox(app, fake, ws);
  const email = `agent-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(db, {
    workspaceId: ws,
    email,
    name: "Alex Agent",
    role: "agent",
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  return { db, ws, inbox, user, secretKey: t.secretKey, email, password: PASSWORD, textIn };
}
