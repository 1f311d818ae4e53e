import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createXProvider } from "../src/channels/x/provider.ts";
import { weightedTweetLength } from "../src/channels/x/text-length.ts";
import type { Inbox } from "../src/conversations/inboxes.ts";
import type { OutboundMessage, Provider } from "../src/delivery/providers/types.ts";
import { isAppError } from "../src/errors.ts";
import { type FakeX, startFakeX, xProblem } from "./support/fake-x.ts";

const TOKEN = "brand-user-context-token";
const PAT_ID = "1590873366429388800";

let x: FakeX;
beforeAll(async () => {
  x = await startFakeX({ accessToken: TOKEN, userId: "1372648374726402050" });
});
afterAll(async () => x?.close());

function inbox(config: Record<string, unknown>): Inbox {
  return {
    id: "0190f0a0-0000-7000-8000-000000000001",
    kind: "x",
    name: "@MelodiaCares",
    channel: "x",
    address: "MelodiaCares",
    config,
    assignment: "manual",
    teamId: null,
    createdAt: "2026-03-10T00:00:00.000Z",
    updatedAt: "2026-03-10T00:00:00.000Z",
  };
}

function provider(config: Record<string, unknown> = {}): Provider {
  const p = createXProvider(inbox({ consumerSecret: "s", accessToken: TOKEN, apiBaseUrl: x.url, ...config }));
  if (!p) throw new Error("expected a provider");
  return p;
}

function message(text: string, target: NonNullable<OutboundMessage["via"]>["target"]): OutboundMessage {
  return {
    workspaceId: "0190f0a0-0000-7000-8000-00000000000a",
    deliveryId: "0190f0a0-0000-7000-8000-00000000000b",
    customerId: "0190f0a0-0000-7000-8000-00000000000c",
    channel: "x",
    to: PAT_ID,
    content: { text },
    idempotencyKey: "reply:test",
    via: { inboxId: "0190f0a0-0000-7000-8000-000000000001", ...(target ? { target } : {}) },
  };
}

const signal = () => new AbortController().signal;
const post = (id = "1899105532764213250") => ({ kind: "post" as const, id });

describe("the X provider", () => {
  it("is absent without an access token (the sandbox sends) and refuses settings that do not parse", () => {
    expect(createXProvider(inbox({ consumerSecret: "s" }))).toBeUndefined();
    expect(createXProvider(inbox({}))).toBeUndefined();
    let error: unknown;
    try {
      createXProvider(inbox({ accessToken: TOKEN, apiBaseUrl: "ftp://api.x.com" }));
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, "x.invalid_config")).toBe(true);
    expect(error instanceof Error ? error.message : "").toMatch(/apiBaseUrl/);
  });

  it("makes a throttled answer retryable after X's rate-limit reset", async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    x.answerNext({
      ...xProblem(429, "Too Many Requests", "Too Many Requests"),
      headers: { "x-rate-limit-reset": String(reset), "x-rate-limit-remaining": "0" },
    });
    const result = await provider().send(message("Hi", post()), signal());
    expect(result).toMatchObject({ ok: false, retryable: true, reason: "x_rate_limited: Too Many Requests" });
    const after = result.ok ? 0 : (result.retryAfterMs ?? 0);
    expect(after).toBeGreaterThan(110_000);
    expect(after).toBeLessThanOrEqual(120_000);
  });

  it("retries server errors, and fails at once with X's own words on other refusals", async () => {
    x.answerNext(xProblem(503, "Service Unavailable", "Service Unavailable"));
    expect(await provider().send(message("Hi", post()), signal())).toMatchObject({
      ok: false,
      retryable: true,
      reason: "x_http_503: Service Unavailable",
    });
    x.answerNext(xProblem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."));
    expect(await provider().send(message("Hi", post()), signal())).toEqual({
      ok: false,
      retryable: false,
      reason: "x_http_403: Forbidden: You are not allowed to create a Tweet with duplicate content.",
    });
    x.answerNext({
      status: 400,
      body: {
        errors: [
          { parameters: { participant_id: [PAT_ID] }, message: "You cannot send messages to this user." },
        ],
        title: "Invalid Request",
        detail: "One or more parameters to your request was invalid.",
        type: "https://api.twitter.com/2/problems/invalid-request",
      },
    });
    expect(await provider().send(message("Hi", { kind: "dm" }), signal())).toEqual({
      ok: false,
      retryable: false,
      reason:
        "x_http_400: Invalid Request: One or more parameters to your request was invalid.: You cannot send messages to this user.",
    });
    // a wrong token is X's 401, final
    const unauthorised = await provider({ accessToken: "expired" }).send(message("Hi", post()), signal());
    expect(unauthorised).toMatchObject({ ok: false, retryable: false, reason: "x_http_401: Unauthorized" });
  });

  it("does not claim success for an answer without an id, nor send to what X cannot take", async () => {
    x.answerNext({ status: 201, body: { data: {} } });
    expect(await provider().send(message("Hi", post()), signal())).toMatchObject({
      ok: false,
      retryable: false,
      reason: "x_bad_answer: 201 without the created id",
    });
    const calls = x.requests.length;
    expect(await provider().send(message("Hi", { kind: "comment_public", id: "1" }), signal())).toMatchObject(
      {
        ok: false,
        retryable: false,
        reason: expect.stringMatching(/^x_unsupported_target/),
      },
    );
    expect(await provider().send(message("Hi", { kind: "post" }), signal())).toMatchObject({
      reason: expect.stringMatching(/^x_no_tweet/),
    });
    expect(
      await provider().send({ ...message("Hi", { kind: "dm" }), to: "@pat_listens" }, signal()),
    ).toMatchObject({ retryable: false, reason: expect.stringMatching(/^x_invalid_recipient/) });
    expect(x.requests.length).toBe(calls);
  });

  it("sends a message without a target as a DM, and a timeout is retryable", async () => {
    const none = message("Hello Pat", undefined);
    const result = await provider().send({ ...none, via: undefined }, signal());
    expect(result).toMatchObject({ ok: true, state: "sent" });
    expect(x.dms.at(-1)).toMatchObject({ participantId: PAT_ID, text: "Hello Pat" });

    x.answerNext({ status: 201, body: { data: { id: "1" } }, delayMs: 400 });
    expect(await provider({ timeoutMs: 100 }).send(message("Hi", post()), signal())).toMatchObject({
      ok: false,
      retryable: true,
      reason: expect.stringMatching(/^timeout/),
    });
  });
});

describe("a tweet's length as X counts it", () => {
  it("counts links as 23, emoji as 2, CJK as 2, accented Latin as 1", () => {
    expect(weightedTweetLength("hello")).toBe(5);
    expect(weightedTweetLength("see https://status.melodia.example/incidents/42/a/very/long/path?x=1")).toBe(
      4 + 23,
    );
    expect(weightedTweetLength("🎶")).toBe(2);
    // a family emoji is one sequence of joined code points: still 2
    expect(weightedTweetLength("👨‍👩‍👧")).toBe(2);
    expect(weightedTweetLength("👍🏽")).toBe(2);
    expect(weightedTweetLength("日本語")).toBe(6);
    // decomposed é is normalised to one character first
    expect(weightedTweetLength("cafe\u0301")).toBe(4);
    expect(weightedTweetLength("a".repeat(280))).toBe(280);
    expect(weightedTweetLength("語".repeat(141))).toBe(282);
  });
});
