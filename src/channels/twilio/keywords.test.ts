import { describe, expect, it } from "vitest";
import { detectKeyword, keywordReply, twiml } from "./keywords.ts";

describe("detectKeyword", () => {
  it("reads every carrier keyword, whatever the case and surrounding blanks", () => {
    for (const k of ["STOP", "stopall", " Unsubscribe ", "cancel", "END\n", "quit"]) {
      expect(detectKeyword(k)?.action, k).toBe("stop");
    }
    for (const k of ["start", "YES", "Unstop"]) expect(detectKeyword(k)?.action, k).toBe("start");
    expect(detectKeyword(" help ")).toEqual({ action: "help", keyword: "HELP" });
  });

  it("ignores keywords inside a longer message", () => {
    for (const k of ["please stop", "stop it", "yes please", "HELP me", "", "st op"]) {
      expect(detectKeyword(k), k).toBeUndefined();
    }
  });
});

describe("twiml", () => {
  it("answers an empty Response, or one escaped Message", () => {
    expect(twiml()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(twiml(keywordReply("help", "Tom & <Jerry>"))).toContain(
      "<Message>Tom &amp; &lt;Jerry&gt;: reply to this message",
    );
  });

  it("confirms STOP and START as carriers expect", () => {
    expect(keywordReply("stop", "Acme")).toMatch(/unsubscribed.*Reply START to resubscribe\.$/);
    expect(keywordReply("start", "Acme")).toMatch(/^You are resubscribed/);
  });
});
