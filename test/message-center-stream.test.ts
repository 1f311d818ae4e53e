import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { appUserHash } from "../src/consent/app-identity.ts";
import { getMessagingSettings } from "../src/consent/settings.ts";
import { AppStreamEvent, appTopic } from "../src/contracts/message-center.ts";
import { testDatabase } from "../src/db/testing.ts";
import { createInAppProvider } from "../src/delivery/providers/in-app.ts";
import type { RenderedContent } from "../src/delivery/tables.ts";
import type { App } from "../src/http/app.ts";
import { uuidv7 } from "../src/ids.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

const recordProviderStatus = vi.hoisted(() => vi.fn(async () => true));
vi.mock("../src/delivery/status.ts", () => ({ recordProviderStatus }));

let app: App;
let base: string;
let t: TestWorkspace;
beforeAll(async () => {
  app = await testApp();
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  t = await createTestWorkspace();
});
afterAll(async () => app?.close());

async function appUser() {
  const { db } = await testDatabase();
  const userId = `user-${uuidv7()}`;
  const { customerId } = await identify(db, t.workspace.id, {
    identifiers: [{ kind: "user_id", value: userId }],
    reason: "test",
    defaultCountry: "US",
  });
  const userHash = appUserHash((await getMessagingSettings(db, t.workspace.id)).identitySecret, userId);
  return { userId, customerId, userHash };
}

async function store(customerId: string, content: Partial<RenderedContent> = {}): Promise<string> {
  const { db } = await testDatabase();
  const deliveryId = uuidv7();
  const r = await createInAppProvider(db).send(
    {
      workspaceId: t.workspace.id,
      deliveryId,
      customerId,
      channel: "in_app",
      to: customerId,
      content: { title: "Flash sale", text: "Two hours only", ...content },
      idempotencyKey: deliveryId,
    },
    new AbortController().signal,
  );
  if (!r.ok) throw new Error(r.reason);
  return r.providerMessageId;
}

/** Reads a text/event-stream response chunk by chunk. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    /** Waits for the next complete event block (comments included), as text. */
    async next(): Promise<string> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          return block;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next event carrying data, parsed. */
    async nextEvent(): Promise<AppStreamEvent> {
      for (;;) {
        const block = await this.next();
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        if (data) return AppStreamEvent.parse(JSON.parse(data));
      }
    },
  };
}

describe("app message stream (SSE)", () => {
  it("delivers a new message live to a stream opened with query parameters, then state changes", async () => {
    const u = await appUser();
    const ctrl = new AbortController();
    const q = new URLSearchParams({ writeKey: t.writeKey, userId: u.userId, userHash: u.userHash });
    const res = await fetch(`${base}/api/v1/app/messages/stream?${q}`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    if (!res.body) throw new Error("no body");
    const sse = sseReader(res.body);
    expect(await sse.next()).toBe("retry: 5000\n: connected");

    const id = await store(u.customerId);
    expect(await sse.nextEvent()).toEqual({
      type: "message",
      message: expect.objectContaining({ id, title: "Flash sale", body: "Two hours only", state: "unread" }),
    });

    const read = await app.inject({
      method: "POST",
      url: `/api/v1/app/messages/${id}/read`,
      headers: {
        authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}`,
        "x-rapport-user-id": u.userId,
        "x-rapport-user-hash": u.userHash,
      },
    });
    expect(read.statusCode).toBe(200);
    expect(await sse.nextEvent()).toEqual({ type: "updated", id, state: "read", readAt: expect.any(String) });
    ctrl.abort();
  });

  it("hears only its own customer's messages", async () => {
    const me = await appUser();
    const other = await appUser();
    const ctrl = new AbortController();
    const q = new URLSearchParams({ writeKey: t.writeKey, userId: me.userId, userHash: me.userHash });
    const res = await fetch(`${base}/api/v1/app/messages/stream?${q}`, { signal: ctrl.signal });
    if (!res.body) throw new Error("no body");
    const sse = sseReader(res.body);
    await sse.next();
    await store(other.customerId, { title: "not mine" });
    const mine = await store(me.customerId, { title: "mine" });
    expect(await sse.nextEvent()).toMatchObject({ type: "message", message: { id: mine, title: "mine" } });
    ctrl.abort();
  });

  it("unsubscribes when the client goes away", async () => {
    const u = await appUser();
    const topic = appTopic(t.workspace.id, u.customerId);
    const unsubscribed = vi.fn();
    const subscribe = app.bus.subscribe.bind(app.bus);
    const spy = vi.spyOn(app.bus, "subscribe").mockImplementation((tp, handler) => {
      const off = subscribe(tp, handler);
      return () => {
        unsubscribed(tp);
        off();
      };
    });
    try {
      const ctrl = new AbortController();
      const q = new URLSearchParams({ writeKey: t.writeKey, userId: u.userId, userHash: u.userHash });
      const res = await fetch(`${base}/api/v1/app/messages/stream?${q}`, { signal: ctrl.signal });
      if (!res.body) throw new Error("no body");
      await sseReader(res.body).next();
      expect(spy).toHaveBeenCalledWith(topic, expect.any(Function));
      expect(unsubscribed).not.toHaveBeenCalled();
      ctrl.abort();
      await vi.waitFor(() => expect(unsubscribed).toHaveBeenCalledWith(topic), { timeout: 5000 });
    } finally {
      spy.mockRestore();
    }
  });

  it("sends a heartbeat comment every 25 s", async () => {
    const u = await appUser();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const ctrl = new AbortController();
    try {
      const q = new URLSearchParams({ writeKey: t.writeKey, userId: u.userId, userHash: u.userHash });
      const res = await fetch(`${base}/api/v1/app/messages/stream?${q}`, { signal: ctrl.signal });
      if (!res.body) throw new Error("no body");
      const sse = sseReader(res.body);
      await sse.next();
      vi.advanceTimersByTime(24_999);
      const next = sse.next();
      const early = await Promise.race([next, new Promise((r) => setTimeout(() => r("nothing yet"), 200))]);
      expect(early).toBe("nothing yet");
      vi.advanceTimersByTime(1);
      expect(await next).toBe(": heartbeat");
    } finally {
      ctrl.abort();
      vi.useRealTimers();
    }
  });

  it("ends open streams when the server closes", async () => {
    const own = await testApp();
    const ownBase = await own.listen({ port: 0, host: "127.0.0.1" });
    const u = await appUser();
    const q = new URLSearchParams({ writeKey: t.writeKey, userId: u.userId, userHash: u.userHash });
    const res = await fetch(`${ownBase}/api/v1/app/messages/stream?${q}`);
    if (!res.body) throw new Error("no body");
    const sse = sseReader(res.body);
    await sse.next();
    // without ending its streams, the server would wait for them forever
    await own.close();
    await expect(sse.next()).rejects.toThrow("the stream ended");
  });

  it("sends the id alone when a message is too large for the bus", async () => {
    const u = await appUser();
    const heard: unknown[] = [];
    const off = app.bus.subscribe(appTopic(t.workspace.id, u.customerId), (m) => heard.push(m));
    try {
      const id = await store(u.customerId, { text: "x".repeat(10_000) });
      await vi.waitFor(() => expect(heard).toEqual([{ type: "message_ref", id }]), { timeout: 5000 });
    } finally {
      off();
    }
  });
});
