import { describe, expect, it } from "vitest";
import {
  TwilioConfig,
  twilioMessageForm,
  twilioSignature,
  twilioStatusCallbackUrl,
  twilioStatusState,
  verifyTwilioSignature,
} from "./twilio.ts";
import type { OutboundMessage } from "./types.ts";

// The example of Twilio's "Validating requests" documentation (twilio.com/docs/usage/security),
// as published in Twilio's api-snippets for twilio-node 2.x and 3.x.
const DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2";
const docParams = (caller: string) => ({
  CallSid: "CA1234567890ABCDE",
  Caller: caller,
  Digits: "1234",
  From: caller,
  To: "+18005551212",
});

const SID = `AC${"a".repeat(32)}`;
const MG = `MG${"b".repeat(32)}`;

function message(over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    workspaceId: "00000000-0000-7000-8000-000000000001",
    deliveryId: "00000000-0000-7000-8000-000000000002",
    customerId: "00000000-0000-7000-8000-000000000003",
    channel: "sms",
    to: "+14155550111",
    content: { text: "Your order shipped" },
    idempotencyKey: "k1",
    ...over,
  };
}

describe("Twilio request signature", () => {
  it("matches the vectors of Twilio's documentation", () => {
    expect(twilioSignature("12345", DOC_URL, docParams("+14158675309"))).toBe("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    expect(twilioSignature("12345", DOC_URL, docParams("+14158675310"))).toBe("GvWf1cFY/Q7PnoempGyD5oXAezc=");
    expect(
      verifyTwilioSignature("12345", DOC_URL, docParams("+14158675310"), "GvWf1cFY/Q7PnoempGyD5oXAezc="),
    ).toBe(true);
  });

  it("refuses another token, a changed parameter, another URL and garbage", () => {
    const sig = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
    const params = docParams("+14158675310");
    expect(verifyTwilioSignature("12346", DOC_URL, params, sig)).toBe(false);
    expect(verifyTwilioSignature("12345", DOC_URL, { ...params, Digits: "1235" }, sig)).toBe(false);
    expect(verifyTwilioSignature("12345", `${DOC_URL}&baz=3`, params, sig)).toBe(false);
    expect(verifyTwilioSignature("12345", "https://mycompany.com/myapp.php", params, sig)).toBe(false);
    expect(verifyTwilioSignature("12345", DOC_URL, params, "")).toBe(false);
    expect(
      verifyTwilioSignature("12345", DOC_URL, params, "not base64 at all, and longer than a SHA-1"),
    ).toBe(false);
  });

  it("accepts a URL signed with or without its default port, as Twilio's helpers do", () => {
    const params = { MessageSid: "SM1", MessageStatus: "delivered" };
    const withPort = twilioSignature("tok", "https://rapport.example.com:443/webhooks/x?a=1", params);
    expect(verifyTwilioSignature("tok", "https://rapport.example.com/webhooks/x?a=1", params, withPort)).toBe(
      true,
    );
    const without = twilioSignature("tok", "https://rapport.example.com/webhooks/x", params);
    expect(verifyTwilioSignature("tok", "https://rapport.example.com:443/webhooks/x", params, without)).toBe(
      true,
    );
    // a non-default port is part of the URL
    expect(verifyTwilioSignature("tok", "https://rapport.example.com:8443/webhooks/x", params, without)).toBe(
      false,
    );
  });

  it("signs repeated parameters value by value, sorted", () => {
    const sig = twilioSignature("tok", "https://x.test/cb", { MediaUrl: ["b", "a"], Body: "hi" });
    const manual = twilioSignature("tok", "https://x.test/cbBodyhiMediaUrlaMediaUrlb", {});
    expect(sig).toBe(manual);
  });
});

describe("Twilio message form", () => {
  const config = TwilioConfig.parse({ accountSid: SID, authToken: "t", from: "+14155550100" });

  it("sends SMS from the number, with media and the status callback", () => {
    const form = twilioMessageForm(
      config,
      "sms",
      message({
        content: { text: "Hi", mediaUrls: ["https://cdn.test/a.png", "https://cdn.test/b.png"] },
        statusCallbackUrl: "https://rapport.test/cb",
      }),
    );
    expect([...form.entries()]).toEqual([
      ["To", "+14155550111"],
      ["From", "+14155550100"],
      ["Body", "Hi"],
      ["MediaUrl", "https://cdn.test/a.png"],
      ["MediaUrl", "https://cdn.test/b.png"],
      ["StatusCallback", "https://rapport.test/cb"],
    ]);
  });

  it("prefixes WhatsApp numbers once, and prefers the WhatsApp sender", () => {
    const wa = TwilioConfig.parse({ ...config, whatsappFrom: "+14155550199", messagingServiceSid: MG });
    const form = twilioMessageForm(wa, "whatsapp", message({ to: "whatsapp:+14155550111" }));
    expect(form.get("To")).toBe("whatsapp:+14155550111");
    expect(form.get("From")).toBe("whatsapp:+14155550199");
    expect(form.has("MessagingServiceSid")).toBe(false);
    expect(twilioMessageForm(config, "whatsapp", message()).get("From")).toBe("whatsapp:+14155550100");
  });

  it("sends through a Messaging Service pool without a From", () => {
    const pool = TwilioConfig.parse({ accountSid: SID, authToken: "t", messagingServiceSid: MG });
    const form = twilioMessageForm(pool, "sms", message());
    expect(form.get("MessagingServiceSid")).toBe(MG);
    expect(form.has("From")).toBe(false);
  });

  it("refuses a config without a sender, or with malformed values", () => {
    expect(TwilioConfig.safeParse({ accountSid: SID, authToken: "t" }).success).toBe(false);
    expect(TwilioConfig.safeParse({ accountSid: SID, authToken: "t", from: "4155550100" }).success).toBe(
      false,
    );
    expect(TwilioConfig.safeParse({ accountSid: "AC1", authToken: "t", from: "+14155550100" }).success).toBe(
      false,
    );
    expect(TwilioConfig.safeParse({ accountSid: SID, authToken: "", from: "+14155550100" }).success).toBe(
      false,
    );
    expect(
      TwilioConfig.safeParse({ accountSid: SID, authToken: "t", messagingServiceSid: "MG1" }).success,
    ).toBe(false);
    expect(config.baseUrl).toBe("https://api.twilio.com");
  });
});

describe("Twilio statuses", () => {
  it("map to delivery states, in-between ones to nothing", () => {
    expect(twilioStatusState("sent")).toBe("sent");
    expect(twilioStatusState("delivered")).toBe("delivered");
    expect(twilioStatusState("read")).toBe("opened");
    expect(twilioStatusState("undelivered")).toBe("failed");
    expect(twilioStatusState("failed")).toBe("failed");
    for (const s of ["queued", "accepted", "sending", "scheduled", "canceled", ""]) {
      expect(twilioStatusState(s)).toBeUndefined();
    }
  });

  it("are posted to the workspace's callback URL", () => {
    expect(twilioStatusCallbackUrl("https://r.test/", "w1")).toBe("https://r.test/webhooks/twilio/status/w1");
  });
});
