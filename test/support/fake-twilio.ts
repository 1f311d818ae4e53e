import { randomBytes } from "node:crypto";
import { type FakeAnswer, type RecordedRequest, startRecordingServer } from "./fake-provider-server.ts";

export type FakeTwilioMessage = {
  sid: string;
  accountSid: string;
  form: Record<string, string | string[]>;
  /** The `I-Twilio-Idempotency-Token` it was created with. */
  idempotencyToken: string | undefined;
};

/** Twilio-shaped error body: `{ code, message, more_info, status }`. */
export function twilioError(status: number, code: number, message: string): FakeAnswer {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/**
 * A local stand-in for Twilio's Messages API: checks Basic auth against one account, creates
 * a message per request (one per `I-Twilio-Idempotency-Token`: a replayed token answers the
 * first message again), records every request, and can be told to answer errors.
 */
export async function startFakeTwilio(account: { accountSid: string; authToken: string }) {
  const messages: FakeTwilioMessage[] = [];
  const byToken = new Map<string, FakeTwilioMessage>();
  const expectedAuth = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString("base64")}`;
  const created = (m: FakeTwilioMessage): FakeAnswer => ({
    status: 201,
    body: {
      sid: m.sid,
      account_sid: m.accountSid,
      status: "queued",
      to: m.form.To,
      from: m.form.From ?? null,
      messaging_service_sid: m.form.MessagingServiceSid ?? null,
      body: m.form.Body,
    },
  });
  const server = await startRecordingServer((req: RecordedRequest) => {
    const path = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.path);
    if (req.method !== "POST" || !path)
      return twilioError(404, 20404, "The requested resource was not found");
    if (req.headers.authorization !== expectedAuth || path[1] !== account.accountSid) {
      return twilioError(401, 20003, "Authenticate");
    }
    if (!req.form.To) return twilioError(400, 21604, "A 'To' phone number is required.");
    const token = req.headers["i-twilio-idempotency-token"];
    const idempotencyToken = typeof token === "string" ? token : undefined;
    const seen = idempotencyToken ? byToken.get(idempotencyToken) : undefined;
    if (seen) return created(seen);
    const message: FakeTwilioMessage = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      accountSid: account.accountSid,
      form: req.form,
      idempotencyToken,
    };
    messages.push(message);
    if (idempotencyToken) byToken.set(idempotencyToken, message);
    return created(message);
  });
  return { ...server, messages };
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;
