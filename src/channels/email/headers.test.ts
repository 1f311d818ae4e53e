import { describe, expect, it } from "vitest";
import { autoReplyReason } from "./auto-reply.ts";
import { readReplyAddress, replyAddress, replyMacValid } from "./reply-address.ts";
import { normalizeSubject } from "./subject.ts";

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe("autoReplyReason", () => {
  it("recognises RFC 3834, responder headers, Precedence and out-of-office subjects", () => {
    expect(autoReplyReason(headers({ "auto-submitted": "auto-replied" }), "Re: x")).toBe(
      "auto-submitted: auto-replied",
    );
    expect(autoReplyReason(headers({ "auto-submitted": "auto-generated; owner-email=x" }), "x")).toBe(
      "auto-submitted: auto-generated",
    );
    expect(autoReplyReason(headers({ "x-autoreply": "yes" }), "x")).toBe("x-autoreply");
    expect(autoReplyReason(headers({ "x-autorespond": "Vacation" }), "x")).toBe("x-autorespond");
    for (const p of ["bulk", "junk", "auto_reply", "Bulk"])
      expect(autoReplyReason(headers({ precedence: p }), "x")).toBe(`precedence: ${p.toLowerCase()}`);
    for (const s of [
      "Out of Office: Order",
      "Automatic reply: hi",
      "Réponse automatique : x",
      "Abwesenheitsnotiz: y",
    ])
      expect(autoReplyReason(headers({}), s), s).toBe("subject");
  });

  it("lets a person's mail through", () => {
    expect(autoReplyReason(headers({ "auto-submitted": "no" }), "Re: my order")).toBeUndefined();
    expect(autoReplyReason(headers({ precedence: "list" }), "Question")).toBeUndefined();
    expect(autoReplyReason(headers({}), "Re: out of stock?")).toBeUndefined();
    expect(autoReplyReason(headers({}), undefined)).toBeUndefined();
  });
});

describe("normalizeSubject", () => {
  it("strips reply and forward prefixes of every common client, any number of them", () => {
    expect(normalizeSubject("RE: Fwd: AW: Order #1042 never arrived")).toBe("order #1042 never arrived");
    expect(normalizeSubject("TR: WG: SV: re[2]: Hello   world")).toBe("hello world");
    expect(normalizeSubject("Fw: [EXTERNAL] Invoice")).toBe("invoice");
    expect(normalizeSubject("Order #1042 never arrived")).toBe("order #1042 never arrived");
  });
  it("keeps words that only start like a prefix", () => {
    expect(normalizeSubject("Return policy")).toBe("return policy");
    expect(normalizeSubject("Trade-in: my old amp")).toBe("trade-in: my old amp");
    expect(normalizeSubject(undefined)).toBe("");
  });
});

describe("reply addresses", () => {
  const settings = { linkSecret: "secret-a" };
  const id = "0190a0b0-1111-7000-8000-000000000001";

  it("round-trips and fits in a local part", () => {
    const address = replyAddress(settings, id, "Melodia.example");
    expect(address).toMatch(/^reply\+[0-9a-f]{48}@melodia\.example$/);
    expect(address.split("@")[0]?.length).toBeLessThanOrEqual(64);
    const read = readReplyAddress(address.toUpperCase());
    expect(read?.conversationId).toBe(id);
    expect(replyMacValid(settings.linkSecret, id, read?.mac ?? "")).toBe(true);
  });

  it("refuses another secret, another conversation and other addresses", () => {
    const read = readReplyAddress(replyAddress(settings, id, "melodia.example"));
    expect(replyMacValid("secret-b", id, read?.mac ?? "")).toBe(false);
    expect(replyMacValid(settings.linkSecret, "0190a0b0-1111-7000-8000-000000000002", read?.mac ?? "")).toBe(
      false,
    );
    expect(readReplyAddress("support@melodia.example")).toBeUndefined();
    expect(readReplyAddress("reply+zz@melodia.example")).toBeUndefined();
  });
});
