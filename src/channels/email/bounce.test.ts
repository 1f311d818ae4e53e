import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isBounce, readBounce } from "./bounce.ts";
import { parseEmail } from "./parse.ts";

const fixture = (name: string) =>
  parseEmail(readFileSync(new URL(`../../../test/fixtures/email/${name}`, import.meta.url)));

describe("bounces", () => {
  it("reads a DSN: the returned message's id, status, diagnostic, hard", async () => {
    const mail = await fixture("12-dsn-bounce.eml");
    expect(isBounce(mail)).toBe(true);
    expect(readBounce(mail)).toEqual({
      originalMessageId: "<9a8b7c6d5e4f30211a2b3c4d5e6f7a8b@melodia.example>",
      status: "5.1.1",
      diagnostic:
        "smtp; 550 5.1.1 <gone.customer@mail.example>: Recipient address rejected: User unknown in virtual mailbox table",
      hard: true,
      recipient: "gone.customer@mail.example",
    });
  });

  it("reads a mailer-daemon message without a DSN part from its text", async () => {
    const mail = await fixture("13-mailer-daemon-no-dsn.eml");
    expect(isBounce(mail)).toBe(true);
    expect(readBounce(mail)).toMatchObject({
      originalMessageId: "<1f2e3d4c5b6a79881f2e3d4c5b6a7988@melodia.example>",
      status: "5.1.1",
      hard: true,
    });
  });

  it("prefers Original-Message-ID, and treats 4.x.x as soft", async () => {
    const raw = (
      await readFileSync(new URL("../../../test/fixtures/email/12-dsn-bounce.eml", import.meta.url), "utf8")
    )
      .replace("Status: 5.1.1", "Status: 4.2.2\nOriginal-Message-ID: <orig-1@melodia.example>")
      .replace("550 5.1.1", "452 4.2.2");
    const bounce = readBounce(await parseEmail(Buffer.from(raw)));
    expect(bounce).toMatchObject({
      originalMessageId: "<orig-1@melodia.example>",
      status: "4.2.2",
      hard: false,
    });
  });

  it("is not fooled by a delay notice or by a person's mail", async () => {
    const raw = readFileSync(
      new URL("../../../test/fixtures/email/12-dsn-bounce.eml", import.meta.url),
      "utf8",
    ).replace("Action: failed", "Action: delayed");
    expect(readBounce(await parseEmail(Buffer.from(raw)))).toBeUndefined();
    expect(isBounce(await fixture("01-gmail-new-alternative.eml"))).toBe(false);
    expect(isBounce(await fixture("11-out-of-office.eml"))).toBe(false);
  });
});
