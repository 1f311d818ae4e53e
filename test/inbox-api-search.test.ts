import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiveInbound } from "../src/conversations/inbound.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { likeLiteral } from "../src/conversations/search.ts";
import type { Db } from "../src/db/client.ts";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { identify } from "../src/profiles/identify.ts";
import { testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let db: Db;
let app: App;
beforeAll(async () => {
  db = (await testDatabase()).db;
  // numbers typed without a country code are read as French ones
  app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "FR" });
});
afterAll(async () => {
  await app.close();
});

type Found = {
  customers: Array<{
    id: string;
    name: string | null;
    email: string | null;
    phone: string | null;
    matched: string;
  }>;
  conversations: Array<{
    id: string;
    number: number;
    snippet: string | null;
    matched: string;
    customerName: string | null;
  }>;
};

/** A workspace with customers known by email, phone, X handle and page-scoped id, and their conversations. */
async function seeded() {
  const s = await signedIn(app, "agent");
  const ws = s.workspace.id;
  const person = (
    identifiers: Array<{ kind: "email" | "phone" | "x_handle" | "messenger_psid"; value: string }>,
    name?: string,
  ) =>
    identify(db, ws, {
      identifiers,
      ...(name ? { traits: { name } } : {}),
      reason: "test",
      defaultCountry: "FR",
    });
  const ada = await person(
    [
      { kind: "email", value: "Ada.Lovelace@Example.com" },
      { kind: "phone", value: "+33612345678" },
    ],
    "Ada Lovelace",
  );
  const fan = await person([{ kind: "x_handle", value: "@RapportFan" }], "Grace Hopper");
  const psid = await person([{ kind: "messenger_psid", value: "PSID-77AbC" }]);
  const inbox = await createInbox(db, ws, { kind: "api", name: "App" });
  const write = (email: string, text: string, threadKey: string) =>
    receiveInbound(
      db,
      ws,
      { inboxId: inbox.id, from: [{ kind: "email", value: email }], text, threadKey },
      { defaultCountry: "FR" },
    );
  const refund = await write(
    "ada.lovelace@example.com",
    `${"Some context about my order. ".repeat(6)}My refund of 100% is late, the parcel_id is AB_12.${" Thanks.".repeat(20)}`,
    "t1",
  );
  const older = await write("ada.lovelace@example.com", "Another refund question", "t2");
  await db.execute(sql`UPDATE conversations SET subject = 'Invoice copy needed', number = 1042
    WHERE workspace_id = ${ws} AND id = ${older.conversationId}`);
  const get = (q: string, extra = "") =>
    app.inject({
      method: "GET",
      url: `/api/v1/search?q=${encodeURIComponent(q)}${extra}`,
      cookies: s.cookies,
      headers: { origin: "http://localhost:3000" },
    });
  const found = async (q: string, extra = ""): Promise<Found> => {
    const res = await get(q, extra);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  return { ...s, ws, ada, fan, psid, refund, older, get, found };
}

describe("GET /api/v1/search", () => {
  it("finds customers by email prefix, phone, identity and name", async () => {
    const w = await seeded();
    const email = await w.found("ADA.love");
    expect(email.customers).toEqual([
      {
        id: w.ada.customerId,
        name: "Ada Lovelace",
        email: "ada.lovelace@example.com",
        phone: "+33612345678",
        matched: "email",
      },
    ]);
    // the middle of an address is no prefix; a name still is found anywhere
    expect((await w.found("lovelace@")).customers).toEqual([]);
    for (const phone of ["06 12 34 56 78", "+33 6 12 34 56 78", "+33612"]) {
      expect((await w.found(phone)).customers, phone).toMatchObject([
        { id: w.ada.customerId, matched: "phone" },
      ]);
    }
    expect((await w.found("@rapportfan")).customers).toMatchObject([
      { id: w.fan.customerId, name: "Grace Hopper", matched: "identity" },
    ]);
    expect((await w.found("psid-77abc")).customers).toMatchObject([
      { id: w.psid.customerId, matched: "identity" },
    ]);
    expect((await w.found("hopp")).customers).toMatchObject([{ id: w.fan.customerId, matched: "name" }]);
  });

  it("finds conversations by number, subject and message text, with a snippet around the match", async () => {
    const w = await seeded();
    const [refund] = (await w.found("ignored")).conversations;
    expect(refund).toBeUndefined();
    const byText = await w.found("REFUND");
    expect(byText.conversations.map((c) => c.id)).toEqual([w.older.conversationId, w.refund.conversationId]);
    const hit = byText.conversations[1];
    expect(hit).toMatchObject({
      matched: "message",
      customerName: "Ada Lovelace",
      status: "open",
      channel: null,
    });
    expect(hit?.snippet).toMatch(/^….*My refund of 100% is late.*…$/);
    expect(hit?.snippet?.length).toBeLessThanOrEqual(162);

    const [byNumber] = (await w.found(`#${byText.conversations[1]?.number}`)).conversations;
    expect(byNumber).toMatchObject({ id: w.refund.conversationId, matched: "number" });
    const plainNumber = await w.found("1042");
    expect(plainNumber.conversations).toMatchObject([
      { id: w.older.conversationId, number: 1042, matched: "number" },
    ]);
    expect((await w.found("invoice COPY")).conversations).toMatchObject([
      { id: w.older.conversationId, matched: "subject", snippet: null },
    ]);
  });

  it("takes % and _ literally", async () => {
    const w = await seeded();
    expect((await w.found("100%")).conversations.map((c) => c.id)).toEqual([w.refund.conversationId]);
    expect((await w.found("d_12")).conversations).toEqual([]);
    expect((await w.found("id is AB_12")).conversations.map((c) => c.id)).toEqual([w.refund.conversationId]);
    expect((await w.found("%%")).conversations).toEqual([]);
    expect(likeLiteral("50%_off\\")).toBe("50\\%\\_off\\\\");
  });

  it("never shows another workspace's customers or conversations", async () => {
    const w = await seeded();
    const other = await signedIn(app, "agent");
    const theirs = await app.inject({
      method: "GET",
      url: "/api/v1/search?q=ada",
      headers: { authorization: `Bearer ${other.secretKey}` },
    });
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json()).toEqual({ customers: [], conversations: [] });
    const refund = await app.inject({
      method: "GET",
      url: "/api/v1/search?q=refund",
      headers: { authorization: `Bearer ${other.secretKey}` },
    });
    expect(refund.json()).toEqual({ customers: [], conversations: [] });
    // the same search with the owner's key finds them
    const mine = await app.inject({
      method: "GET",
      url: "/api/v1/search?q=ada",
      headers: { authorization: `Bearer ${w.secretKey}` },
    });
    expect(mine.json().customers).toHaveLength(1);
  });

  it("refuses a query too short or too long, a bad limit, and anonymous callers", async () => {
    const w = await seeded();
    for (const [q, code] of [
      ["", "search.query_too_short"],
      ["a", "search.query_too_short"],
      ["  b  ", "search.query_too_short"],
      ["x".repeat(201), "search.query_too_long"],
    ] as const) {
      const res = await w.get(q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code, q).toBe(code);
    }
    const missing = await app.inject({ method: "GET", url: "/api/v1/search", cookies: w.cookies });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe("request.invalid");
    const limit = await w.get("ada", "&limit=0");
    expect(limit.statusCode).toBe(400);
    expect((await w.found("refund", "&limit=1")).conversations).toHaveLength(1);
    expect((await app.inject({ method: "GET", url: "/api/v1/search?q=ada" })).statusCode).toBe(401);
  });
});
