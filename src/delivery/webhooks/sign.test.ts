import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, webhookHeaders } from "./sign.ts";

describe("Standard Webhooks signatures", () => {
  it("makes secrets of whsec_ and 32 random bytes", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it("signs what the reference library verifies", () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({
      type: "delivery.sent",
      timestamp: "2025-01-01T00:00:00.000Z",
      data: { é: "ü" },
    });
    const headers = webhookHeaders(secret, "msg_1", body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toMatch(/Rapport/);
  });

  it("matches the reference library's signature byte for byte", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const at = new Date(1_614_265_330_000);
    const body = '{"test": 2432232314}';
    expect(signWebhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body)).toBe(
      new Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, body),
    );
  });

  it("fails verification for a tampered body, another id or another secret", () => {
    const secret = newWebhookSecret();
    const body = '{"type":"webhook.test","data":{}}';
    const headers = webhookHeaders(secret, "msg_2", body);
    expect(() => new Webhook(secret).verify('{"type":"webhook.test","data":{"x":1}}', headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "msg_3" })).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });
});
