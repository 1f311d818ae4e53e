import { describe, expect, it } from "vitest";
import type { HttpAnswer } from "../../delivery/providers/http-call.ts";
import type { OutboundMessage } from "../../delivery/providers/types.ts";
import { graphCall, isGraphId, isRapportEcho, mapGraphAnswer, readGraphPost } from "./graph.ts";

const answer = (status: number, json: unknown, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: new Headers(headers),
  json,
  text: json === undefined ? "" : JSON.stringify(json),
});
const graphError = (code: number, extra: Record<string, unknown> = {}) => ({
  error: { message: `error ${code}`, type: "OAuthException", code, fbtrace_id: "AbC", ...extra },
});

const message = (via?: OutboundMessage["via"]): OutboundMessage => ({
  workspaceId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  deliveryId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
  customerId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
  channel: "messenger",
  to: "6543210987654321",
  content: { text: "Hello" },
  idempotencyKey: "reply:1",
  ...(via ? { via } : {}),
});
const inboxId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e";

describe("mapGraphAnswer", () => {
  it("takes the Send API's message_id or a comment's id", () => {
    expect(mapGraphAnswer(answer(200, { recipient_id: "1", message_id: "m_1" }))).toEqual({
      ok: true,
      providerMessageId: "m_1",
      state: "sent",
    });
    expect(mapGraphAnswer(answer(200, { id: "123_456" }))).toMatchObject({
      ok: true,
      providerMessageId: "123_456",
    });
    // accepted without an id: another try could post twice
    expect(mapGraphAnswer(answer(200, { success: true }))).toMatchObject({ ok: false, retryable: false });
  });

  it("retries throttling, outages and Meta's transient codes", () => {
    for (const code of [1, 2, 4, 17, 32, 613, 80004]) {
      expect(mapGraphAnswer(answer(400, graphError(code)))).toMatchObject({ ok: false, retryable: true });
    }
    expect(mapGraphAnswer(answer(400, graphError(100, { is_transient: true })))).toMatchObject({
      retryable: true,
    });
    expect(mapGraphAnswer(answer(429, undefined, { "retry-after": "30" }))).toMatchObject({
      retryable: true,
      retryAfterMs: 30_000,
    });
    expect(mapGraphAnswer(answer(502, undefined))).toMatchObject({
      retryable: true,
      reason: "meta_http_502: ",
    });
  });

  it("makes everything else final, with Meta's code, subcode and message", () => {
    expect(mapGraphAnswer(answer(400, graphError(10, { error_subcode: 2018278 })))).toEqual({
      ok: false,
      retryable: false,
      reason: "meta_error: 10/2018278 error 10",
    });
    expect(mapGraphAnswer(answer(401, graphError(190)))).toMatchObject({
      retryable: false,
      reason: "meta_error: 190 error 190",
    });
    expect(mapGraphAnswer(answer(400, graphError(100)))).toMatchObject({ retryable: false });
  });
});

describe("graphCall", () => {
  const messenger = { kind: "messenger" as const, node: "109876543210987" };
  const instagram = { kind: "instagram" as const, node: "17841400000000001" };

  it("sends a DM to the recipient, marking Messenger's with the delivery for its echo", () => {
    const call = graphCall(messenger, message());
    expect(call).toEqual({
      path: "/109876543210987/messages",
      body: {
        recipient: { id: "6543210987654321" },
        messaging_type: "RESPONSE",
        message: { text: "Hello", metadata: "rapport:0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c" },
      },
    });
    const body = "body" in call ? call.body : {};
    expect(isRapportEcho(String((body.message as { metadata?: string }).metadata))).toBe(true);
    expect(graphCall(instagram, message({ inboxId, target: { kind: "dm" } }))).toMatchObject({
      body: { message: { text: "Hello" } },
    });
    expect(graphCall(instagram, message())).not.toHaveProperty("body.message.metadata");
  });

  it("answers comments in public (comments on Facebook, replies on Instagram) or privately", () => {
    const pub = message({ inboxId, target: { kind: "comment_public", id: "1_2" } });
    expect(graphCall(messenger, pub)).toEqual({ path: "/1_2/comments", body: { message: "Hello" } });
    expect(graphCall(instagram, pub)).toEqual({ path: "/1_2/replies", body: { message: "Hello" } });
    const priv = message({ inboxId, target: { kind: "comment_private", id: "1_2" } });
    expect(graphCall(messenger, priv)).toEqual({
      path: "/109876543210987/messages",
      body: { recipient: { comment_id: "1_2" }, message: { text: "Hello" } },
    });
    expect(graphCall(messenger, message({ inboxId, target: { kind: "post", id: "9_8" } }))).toEqual({
      path: "/9_8/comments",
      body: { message: "Hello" },
    });
  });

  it("refuses a target Meta cannot reach, and an id that would change the path", () => {
    expect(graphCall(messenger, message({ inboxId, target: { kind: "chat" } }))).toHaveProperty("refused");
    expect(graphCall(messenger, message({ inboxId, target: { kind: "comment_public" } }))).toHaveProperty(
      "refused",
    );
    expect(
      graphCall(messenger, message({ inboxId, target: { kind: "comment_public", id: "../me/feed" } })),
    ).toEqual({
      path: "/..%2Fme%2Ffeed/comments",
      body: { message: "Hello" },
    });
    expect(isRapportEcho(undefined)).toBe(false);
    expect(isRapportEcho("campaign:42")).toBe(false);
  });
});

describe("readGraphPost", () => {
  it("reads a Facebook post's message, link, picture and time", () => {
    expect(
      readGraphPost("messenger", {
        id: "1_2",
        message: "Hello",
        permalink_url: "https://www.facebook.com/p/2",
        full_picture: "https://scontent.xx.fbcdn.net/2.jpg",
        created_time: "2024-11-24T09:28:20+0000",
      }),
    ).toEqual({
      text: "Hello",
      permalinkUrl: "https://www.facebook.com/p/2",
      mediaUrl: "https://scontent.xx.fbcdn.net/2.jpg",
      postedAt: new Date("2024-11-24T09:28:20Z"),
    });
    // a post with nothing but its id (a shared link without words)
    expect(readGraphPost("messenger", { id: "1_3" })).toEqual({
      text: null,
      permalinkUrl: null,
      mediaUrl: null,
      postedAt: null,
    });
    expect(readGraphPost("messenger", "not an object")).toBeUndefined();
  });

  it("takes an Instagram video's thumbnail as its picture, an image's media_url, and drops other schemes and bad times", () => {
    const media = {
      caption: "Hi",
      permalink: "https://www.instagram.com/p/X/",
      media_url: "https://scontent.cdninstagram.com/v.mp4",
      thumbnail_url: "https://scontent.cdninstagram.com/t.jpg",
      timestamp: "2024-11-23T18:00:00+0000",
    };
    expect(readGraphPost("instagram", { ...media, media_type: "VIDEO" })?.mediaUrl).toBe(
      "https://scontent.cdninstagram.com/t.jpg",
    );
    expect(readGraphPost("instagram", { ...media, media_type: "IMAGE" })?.mediaUrl).toBe(
      "https://scontent.cdninstagram.com/v.mp4",
    );
    expect(
      readGraphPost("instagram", {
        caption: 42,
        permalink: "javascript:alert(1)",
        media_url: "data:image/png;base64,AAAA",
        timestamp: "yesterday",
      }),
    ).toEqual({ text: null, permalinkUrl: null, mediaUrl: null, postedAt: null });
  });

  it("reads only Graph ids of posts and media", () => {
    expect(isGraphId("109876543210987_122134567890123456")).toBe(true);
    expect(isGraphId("18012345678901234")).toBe(true);
    for (const bad of ["unknown", "", "1_2_3", "../me", "1?fields=access_token"])
      expect(isGraphId(bad)).toBe(false);
  });
});
