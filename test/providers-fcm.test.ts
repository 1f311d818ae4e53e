import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createFcmProvider, FcmConfig, forgetFcmTokens } from "../src/delivery/providers/fcm.ts";
import type { OutboundMessage } from "../src/delivery/providers/types.ts";
import { uuidv7 } from "../src/ids.ts";
import { type FakeFcm, fcmError, startFakeFcm } from "./support/fake-fcm.ts";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
const account = { projectId: "rapport-demo", clientEmail: "push@rapport-demo.iam.gserviceaccount.com" };

let fake: FakeFcm;
beforeAll(async () => {
  fake = await startFakeFcm({ ...account, publicKeyPem: publicPem });
});
afterAll(async () => fake?.close());
beforeEach(() => forgetFcmTokens());

const config = (over: Record<string, unknown> = {}) =>
  FcmConfig.parse({
    ...account,
    privateKey: privatePem,
    baseUrl: fake.url,
    tokenUrl: `${fake.url}/token`,
    ...over,
  });

function message(over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    workspaceId: uuidv7(),
    deliveryId: uuidv7(),
    customerId: uuidv7(),
    channel: "push",
    to: `device-${uuidv7()}`,
    content: { title: "Back online", text: "The outage is over.", data: { url: "rapport://status" } },
    idempotencyKey: uuidv7(),
    ...over,
  };
}
const signal = () => new AbortController().signal;

describe("FCM HTTP v1-shaped push", () => {
  it("trades an RS256 service-account JWT for a token and posts the v1 message", async () => {
    const push = createFcmProvider(config());
    const m = message();
    const tokensBefore = fake.tokenRequests().length;
    const sendsBefore = fake.sendRequests().length;
    const assertionsBefore = fake.assertions.length;
    const result = await push.send(m, signal());
    expect(fake.tokenRequests().length).toBe(tokensBefore + 1);
    expect(fake.assertions.slice(assertionsBefore)).toEqual([
      expect.objectContaining({ valid: true, header: { alg: "RS256", typ: "JWT" } }),
    ]);
    const sent = fake.sendRequests()[sendsBefore];
    expect(sent?.headers.authorization).toMatch(/^Bearer ya29\./);
    expect(sent?.path).toBe(`/v1/projects/${account.projectId}/messages:send`);
    expect(sent?.json).toEqual({
      message: {
        token: m.to,
        notification: { title: "Back online", body: "The outage is over." },
        data: { url: "rapport://status" },
      },
    });
    expect(result).toMatchObject({
      ok: true,
      providerMessageId: expect.stringMatching(/^projects\/rapport-demo\/messages\//),
      state: "sent",
    });
  });

  it("caches the access token across sends and providers, and refreshes it shortly before expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const before = fake.tokenRequests().length;
      expect((await createFcmProvider(config()).send(message(), signal())).ok).toBe(true);
      expect((await createFcmProvider(config()).send(message(), signal())).ok).toBe(true);
      const push = createFcmProvider(config());
      await Promise.all([push.send(message(), signal()), push.send(message(), signal())]);
      expect(fake.tokenRequests().length).toBe(before + 1);
      // the fake's tokens live 3599 s: a new one is fetched five minutes before they expire
      const start = Date.now();
      vi.setSystemTime(start + 3599_000 - 302_000);
      expect((await push.send(message(), signal())).ok).toBe(true);
      expect(fake.tokenRequests().length).toBe(before + 1);
      vi.setSystemTime(start + 3599_000 - 299_000);
      expect((await push.send(message(), signal())).ok).toBe(true);
      expect(fake.tokenRequests().length).toBe(before + 2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("is refused a token when the JWT is signed with another key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const push = createFcmProvider(
      config({ privateKey: other.export({ type: "pkcs8", format: "pem" }).toString() }),
    );
    const sendsBefore = fake.sendRequests().length;
    expect(await push.send(message(), signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "fcm_auth_failed: invalid_grant bad signature",
    });
    expect(fake.sendRequests().length).toBe(sendsBefore);
  });

  it("refreshes the token once after a 401 and then succeeds", async () => {
    const push = createFcmProvider(config());
    expect((await push.send(message(), signal())).ok).toBe(true);
    fake.revokeAccessTokens();
    const tokens = fake.tokenRequests().length;
    const sends = fake.sendRequests().length;
    expect((await push.send(message(), signal())).ok).toBe(true);
    expect(fake.tokenRequests().length).toBe(tokens + 1);
    expect(fake.sendRequests().length).toBe(sends + 2);
  });

  it("answers an unregistered or malformed device token as invalid_token", async () => {
    const push = createFcmProvider(config());
    const m = message();
    fake.markUnregistered(m.to);
    expect(await push.send(m, signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "invalid_token: UNREGISTERED Requested entity was not found.",
    });
    fake.answerNext({
      status: 400,
      body: {
        error: {
          code: 400,
          status: "INVALID_ARGUMENT",
          message: "The registration token is not a valid FCM registration token",
          details: [
            { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "INVALID_ARGUMENT" },
            {
              "@type": "type.googleapis.com/google.rpc.BadRequest",
              fieldViolations: [{ field: "message.token", description: "Invalid registration token" }],
            },
          ],
        },
      },
    });
    expect(await push.send(message(), signal())).toMatchObject({
      retryable: false,
      reason: expect.stringMatching(/^invalid_token: INVALID_ARGUMENT /),
    });
    // an invalid argument that is not the token must not drop the token
    fake.answerNext(
      fcmError(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value'", "INVALID_ARGUMENT"),
    );
    expect(await push.send(message(), signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "fcm_error: INVALID_ARGUMENT Invalid value at 'message.data[0].value'",
    });
  });

  it("answers throttling, server errors and timeouts as retryable, honouring Retry-After", async () => {
    const push = createFcmProvider(config({ timeoutMs: 200 }));
    expect((await push.send(message(), signal())).ok).toBe(true);
    fake.answerNext({
      ...fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED"),
      headers: { "retry-after": "30" },
    });
    expect(await push.send(message(), signal())).toEqual({
      ok: false,
      retryable: true,
      reason: "fcm_error: QUOTA_EXCEEDED Quota exceeded",
      retryAfterMs: 30_000,
    });
    fake.answerNext(fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"));
    expect(await push.send(message(), signal())).toMatchObject({ ok: false, retryable: true });
    fake.answerNext({ status: 200, body: { name: "late" }, delayMs: 1500 });
    expect(await push.send(message(), signal())).toEqual({
      ok: false,
      retryable: true,
      reason: "timeout: no answer in 200 ms",
    });
  });

  it("answers a token endpoint that is down as retryable", async () => {
    const push = createFcmProvider(config({ tokenUrl: "http://127.0.0.1:9/token" }));
    expect(await push.send(message(), signal())).toMatchObject({
      ok: false,
      retryable: true,
      reason: expect.stringMatching(/^network: /),
    });
  });
});
