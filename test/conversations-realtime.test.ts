import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
let base: string;
beforeAll(async () => {
  app = await testApp();
  base = (await app.listen({ port: 0, host: "127.0.0.1" })).replace("http", "ws");
});
afterAll(async () => {
  await app.close();
});

/** Opens the live feed and collects what arrives. */
function connect(headers: Record<string, string>) {
  const socket = new WebSocket(`${base}/api/v1/realtime`, { headers });
  const received: Array<Record<string, unknown>> = [];
  socket.on("message", (data) => received.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    socket.on("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    socket.on("error", reject);
    const wait = () => (received.some((m) => m.type === "ready") ? resolve() : setTimeout(wait, 10));
    socket.on("open", wait);
  });
  return { socket, received, opened };
}

async function until<T>(what: string, check: () => T | undefined, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("an agent's live feed", () => {
  it("receives a new inbound message of its workspace, and nothing of another's", async () => {
    const { db } = await testDatabase();
    const mine = await signedIn(app, "agent");
    const other = await signedIn(app, "agent");
    const feed = connect({ cookie: `rapport_session=${mine.cookies.rapport_session}` });
    await feed.opened;
    const theirs = await createInbox(db, other.workspace.id, { kind: "api", name: "theirs" });
    await receiveInbound(
      db,
      other.workspace.id,
      { inboxId: theirs.id, from: [{ kind: "email", value: "o@example.com" }], text: "not for you" },
      { defaultCountry: "FR" },
    );
    const inbox = await createInbox(db, mine.workspace.id, { kind: "api", name: "mine" });
    const sent = await receiveInbound(
      db,
      mine.workspace.id,
      { inboxId: inbox.id, from: [{ kind: "email", value: "m@example.com" }], text: "hello" },
      { defaultCountry: "FR" },
    );
    const got = await until("the message event", () =>
      feed.received.find((m) => m.type === "message.created"),
    );
    expect(got).toMatchObject({
      conversationId: sent.conversationId,
      messageId: sent.messageId,
      direction: "inbound",
    });
    expect(feed.received.filter((m) => m.type === "message.created")).toHaveLength(1);
    feed.socket.close();
  });

  it("refuses a connection without a session, and one opened from another site", async () => {
    const anonymous = connect({});
    await expect(anonymous.opened).rejects.toThrow(/refused: 401/);
    const mine = await signedIn(app, "agent");
    const foreign = connect({
      cookie: `rapport_session=${mine.cookies.rapport_session}`,
      origin: "https://evil.example",
    });
    await expect(foreign.opened).rejects.toThrow(/refused: 403/);
  });
});
