import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../src/db/testing.ts";
import type { App } from "../src/http/app.ts";
import { foldAllInboxes } from "../src/profiles/inbox.ts";
import { createTestWorkspace, type TestWorkspace, testApp } from "./support/factories.ts";

let app: App;
let t: TestWorkspace;
let other: TestWorkspace;

beforeAll(async () => {
  app = await testApp();
  t = await createTestWorkspace();
  other = await createTestWorkspace();
  const batch = [
    {
      type: "identify",
      userId: "c1",
      traits: { name: "Ada Lovelace", email: "ada@example.com", plan: "pro" },
    },
    {
      type: "identify",
      userId: "c2",
      traits: { firstName: "Grace", lastName: "Hopper", phone: "+1 415 555 0101", plan: "free" },
    },
    { type: "identify", userId: "c3", traits: { name: "Alan Turing", plan: "pro", city: "London" } },
    { type: "identify", anonymousId: "visitor-9", traits: { email: "visitor@example.com" } },
    { type: "identify", userId: "c4", traits: { email: "dup@example.com" } },
    { type: "identify", userId: "c5", traits: { email: "dup@example.com" } },
  ];
  const res = await app.inject({
    method: "POST",
    url: "/v1/batch",
    headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString("base64")}` },
    payload: { batch },
  });
  expect(res.json().accepted).toBe(6);
  await foldAllInboxes((await testDatabase()).db);
});
afterAll(async () => app?.close());

const get = (url: string, key = t.secretKey) =>
  app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });

async function idOf(query: string, key = t.secretKey): Promise<string> {
  const res = await get(`/api/v1/customers?${query}`, key);
  const id = res.json().data[0]?.id;
  if (!id) throw new Error(`no customer for ${query}`);
  return id;
}

describe("customers REST API", () => {
  it("searches by email, phone, user id, name and traits", async () => {
    expect((await get("/api/v1/customers?phone=%2B14155550101")).json().data[0].traits.firstName).toBe(
      "Grace",
    );
    expect((await get("/api/v1/customers?userId=c3")).json().data[0].traits.name).toBe("Alan Turing");
    const byName = (await get("/api/v1/customers?name=grace%20hop")).json().data;
    expect(byName.map((c: { traits: { lastName: string } }) => c.traits.lastName)).toEqual(["Hopper"]);
    const pro = (await get("/api/v1/customers?trait=plan:pro")).json().data;
    expect(pro.map((c: { traits: { name: string } }) => c.traits.name).sort()).toEqual([
      "Ada Lovelace",
      "Alan Turing",
    ]);
    const proLondon = (await get("/api/v1/customers?trait=plan:pro&trait=city:London")).json().data;
    expect(proLondon).toHaveLength(1);
  });

  it("pages through customers with a cursor, newest first, without repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/api/v1/customers?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().data.map((c: { id: string }) => c.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it("merges manually, keeps the old id resolving, records it, and refuses two user ids", async () => {
    const visitor = await idOf("email=visitor@example.com");
    const ada = await idOf("userId=c1");
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${ada}/merge`,
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: { mergedId: visitor },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().identities).toEqual(
      expect.arrayContaining([{ kind: "email", value: "visitor@example.com" }]),
    );
    expect((await get(`/api/v1/customers/${visitor}`)).json()).toMatchObject({
      id: ada,
      requestedId: visitor,
    });
    const merges = (await get(`/api/v1/customers/${ada}/merges`)).json().data;
    expect(merges[0]).toMatchObject({ survivorId: ada, mergedId: visitor, reason: "manual" });
    expect(merges[0].actor).toMatch(/^api_key:/);

    const refused = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${ada}/merge`,
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: { mergedId: await idOf("userId=c3") },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe("profiles.merge_conflict");
  });

  it("lists conflicts that were recorded instead of forced", async () => {
    const res = await get("/api/v1/identity-conflicts");
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([expect.objectContaining({ kind: "email", value: "dup@example.com" })]);
  });

  it("never shows another workspace's customer, and explains bad ids and filters", async () => {
    const ada = await idOf("userId=c1");
    const cross = await get(`/api/v1/customers/${ada}`, other.secretKey);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe("profiles.customer_not_found");
    expect((await get(`/api/v1/customers/${ada}/events`, other.secretKey)).statusCode).toBe(404);
    const crossMerge = await app.inject({
      method: "POST",
      url: `/api/v1/customers/${ada}/merge`,
      headers: { authorization: `Bearer ${other.secretKey}` },
      payload: { mergedId: ada },
    });
    expect(crossMerge.statusCode).toBe(404);
    const badId = await get("/api/v1/customers/42");
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.code).toBe("profiles.invalid_id");
    expect((await get("/api/v1/customers?trait=plan")).json().error.message).toContain("key:value");
    expect((await get("/api/v1/customers?cursor=garbage")).json().error.code).toBe("request.invalid_cursor");
    expect((await get("/api/v1/customers?limit=0")).statusCode).toBe(400);
    expect((await get("/api/v1/customers?email=not-an-email")).json().error.code).toBe(
      "profiles.invalid_email",
    );
  });

  it("answers 401 without a key and with a write key", async () => {
    expect((await app.inject({ method: "GET", url: "/api/v1/customers" })).statusCode).toBe(401);
    expect((await get("/api/v1/customers", t.writeKey)).statusCode).toBe(401);
  });
});
