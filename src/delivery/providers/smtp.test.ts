import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { classifySmtpError, messageIdFor, parseFrom, SmtpConfig } from "./smtp.ts";

function smtpError(message: string, fields: { code?: string; responseCode?: number; response?: string }) {
  return Object.assign(new Error(message), fields);
}

describe("SMTP provider helpers", () => {
  it("parses a from address with or without a name", () => {
    expect(parseFrom("Brand News <news@brand.example>")).toEqual({
      name: "Brand News",
      address: "news@brand.example",
    });
    expect(parseFrom('"Brand, Inc." <hi@brand.example>')).toEqual({
      name: "Brand, Inc.",
      address: "hi@brand.example",
    });
    expect(parseFrom("hi@brand.example")).toEqual({ name: "", address: "hi@brand.example" });
    expect(parseFrom("Brand")).toBeUndefined();
    expect(parseFrom("Brand <not-an-address>")).toBeUndefined();
  });

  it("derives the Message-ID from the idempotency key and the from domain", () => {
    const id = messageIdFor("order-42-shipped", "Brand <news@mail.brand.example>");
    const hash = createHash("sha256").update("order-42-shipped").digest("hex").slice(0, 32);
    expect(id).toBe(`<${hash}@mail.brand.example>`);
    expect(messageIdFor("order-42-shipped", "news@mail.brand.example")).toBe(id);
    expect(messageIdFor("order-43-shipped", "news@mail.brand.example")).not.toBe(id);
  });

  it("retries 4xx replies and broken connections, never 5xx replies", () => {
    expect(
      classifySmtpError(
        smtpError("all recipients were rejected", {
          code: "EENVELOPE",
          responseCode: 451,
          response: "451 4.7.1 Try again later",
        }),
      ),
    ).toEqual({ ok: false, retryable: true, reason: "451 4.7.1 Try again later" });
    expect(
      classifySmtpError(
        smtpError("all recipients were rejected", {
          code: "EENVELOPE",
          responseCode: 550,
          response: "550 5.1.1 Mailbox unavailable",
        }),
      ),
    ).toEqual({ ok: false, retryable: false, reason: "550 5.1.1 Mailbox unavailable" });
    expect(
      classifySmtpError(
        smtpError("Message failed", { code: "EMESSAGE", responseCode: 554, response: "554\n  rejected" }),
      ),
    ).toMatchObject({
      retryable: false,
      reason: "554 rejected",
    });
    for (const code of ["ESOCKET", "ECONNECTION", "ETIMEDOUT", "EDNS"]) {
      expect(classifySmtpError(smtpError(`connect failed (${code})`, { code }))).toMatchObject({
        retryable: true,
      });
    }
    expect(classifySmtpError(smtpError("Missing credentials for PLAIN", { code: "EAUTH" }))).toMatchObject({
      retryable: false,
    });
    expect(classifySmtpError("weird")).toMatchObject({ retryable: true });
  });

  it("validates the setting and says what is wrong", () => {
    expect(
      SmtpConfig.safeParse({ host: "smtp.example", port: 587, from: "Brand <a@brand.example>" }).success,
    ).toBe(true);
    const bad = SmtpConfig.safeParse({ host: "", port: 0, from: "Brand", user: "u" });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["host", "port", "from"]));
    const half = SmtpConfig.safeParse({ host: "h", port: 25, from: "a@b.example", user: "u" });
    expect(half.error?.issues[0]?.message).toMatch(/user and password together/);
  });
});
