import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addressHash,
  addSuppression,
  eraseAddress,
  listSuppressions,
  removeSuppression,
  suppressedAddresses,
} from "../src/consent/suppressions.ts";
import { rows } from "../src/db/client.ts";
import { isAppError } from "../src/errors.ts";
import type { App } from "../src/http/app.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";
import { signedIn } from "./support/sign-in.ts";

let app: App;
beforeAll(async () => {
  app = await testApp({ RAPPORT_AUTH_RATE_LIMIT: "1000" });
});
afterAll(async () => app?.close());

const db = () => app.ctx.database.db;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("suppressions", () => {
  it("hashes normalised addresses: emails lower-cased, phones in E.164", () => {
    expect(addressHash("email", " Ada@Example.COM ")).toBe(sha("ada@example.com"));
    expect(addressHash("sms", "+1 (415) 555-0123")).toBe(sha("+14155550123"));
    expect(addressHash("whatsapp", "06 12 34 56 78", "FR")).toBe(sha("+33612345678"));
    expect(addressHash("push", " token-1 ")).toBe(sha("token-1"));
    expect(() => addressHash("email", "not-an-email")).toThrow(/not a valid email/);
    expect(() => addressHash("sms", "12")).toThrow(/not a valid phone number/);
  });

  it("adds idempotently, keeping the first reason, and finds suppressed destinations", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const ws = workspace.id;
    const first = await addSuppression(db(), ws, {
      channel: "email",
      address: "Ada@Example.com",
      reason: "hard_bounce",
    });
    expect(first.created).toBe(true);
    expect(first.suppression).toMatchObject({ address: "ada@example.com", reason: "hard_bounce" });
    const again = await addSuppression(db(), ws, {
      channel: "email",
      address: "ada@example.com",
      reason: "manual",
    });
    expect(again.created).toBe(false);
    expect(again.suppression.reason).toBe("hard_bounce");
    await addSuppression(db(), ws, { channel: "sms", address: "+14155550123", reason: "sms_stop" });
    const found = await suppressedAddresses(db(), ws, [
      { channel: "email", address: "ADA@example.com" },
      { channel: "email", address: "grace@example.com" },
      { channel: "sms", address: "+1 415 555 0123" },
      { channel: "whatsapp", address: "+14155550123" },
      { channel: "email", address: "garbage" },
    ]);
    expect(found).toEqual(new Set([`email:${sha("ada@example.com")}`, `sms:${sha("+14155550123")}`]));
    // another workspace's suppressions do not apply here
    const other = await createTestWorkspace(app.ctx.database);
    expect(
      (
        await suppressedAddresses(db(), other.workspace.id, [
          { channel: "email", address: "ada@example.com" },
        ])
      ).size,
    ).toBe(0);
    const page = await listSuppressions(db(), ws, { limit: 1 });
    expect(page.data).toHaveLength(1);
    const next = await listSuppressions(db(), ws, { limit: 1, cursor: page.nextCursor ?? "" });
    expect(next.data).toHaveLength(1);
    expect(next.data[0]?.addressHash).not.toBe(page.data[0]?.addressHash);
    expect(next.nextCursor).toBeNull();
    expect((await listSuppressions(db(), ws, { limit: 10, channel: "sms" })).data).toHaveLength(1);
  });

  it("erases an address keeping only its hash, and refuses to lift an erasure", async () => {
    const { workspace } = await createTestWorkspace(app.ctx.database);
    const ws = workspace.id;
    await addSuppression(db(), ws, { channel: "email", address: "gone@example.com", reason: "manual" });
    await eraseAddress(db(), ws, "email", "Gone@example.com");
    await eraseAddress(db(), ws, "sms", "+14155550199");
    const stored = await rows<{
      channel: string;
      addressHash: string;
      address: string | null;
      reason: string;
    }>(
      db(),
      sql`SELECT channel, address_hash AS "addressHash", address, reason FROM suppressions
          WHERE workspace_id = ${ws} ORDER BY channel`,
    );
    expect(stored).toEqual([
      { channel: "email", addressHash: sha("gone@example.com"), address: null, reason: "erased" },
      { channel: "sms", addressHash: sha("+14155550199"), address: null, reason: "erased" },
    ]);
    expect(
      (await suppressedAddresses(db(), ws, [{ channel: "email", address: "gone@example.com" }])).size,
    ).toBe(1);
    await expect(removeSuppression(db(), ws, "email", "gone@example.com")).rejects.toSatisfy((e) =>
      isAppError(e, "consent.suppression_erased"),
    );
    // adding it again cannot turn an erasure back into a clear address
    await addSuppression(db(), ws, { channel: "email", address: "gone@example.com", reason: "manual" });
    expect((await listSuppressions(db(), ws, { limit: 10, channel: "email" })).data[0]).toMatchObject({
      address: null,
      reason: "erased",
    });
  });
});

describe("suppressions REST API", () => {
  it("adds (201 then 200), lists, and lets only admins lift a suppression", async () => {
    const admin = await signedIn(app, "admin");
    const headers = { authorization: `Bearer ${admin.secretKey}` };
    const add = () =>
      app.inject({
        method: "POST",
        url: "/api/v1/suppressions",
        headers,
        payload: { channel: "sms", address: "+1 415 555 0142", details: { ticket: "T-1" } },
      });
    const created = await add();
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ channel: "sms", address: "+14155550142", reason: "manual" });
    expect((await add()).statusCode).toBe(200);
    const list = await app.inject({ method: "GET", url: "/api/v1/suppressions", headers });
    expect(list.json().data).toHaveLength(1);

    const agent = await signedIn(app, "agent");
    const agentDelete = await app.inject({
      method: "DELETE",
      url: "/api/v1/suppressions/sms/%2B14155550142",
      cookies: agent.cookies,
    });
    expect(agentDelete.statusCode).toBe(403);
    const removed = await app.inject({
      method: "DELETE",
      url: "/api/v1/suppressions/sms/%2B14155550142",
      cookies: admin.cookies,
    });
    expect(removed.statusCode).toBe(200);
    const gone = await app.inject({
      method: "DELETE",
      url: "/api/v1/suppressions/sms/%2B14155550142",
      headers,
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("consent.suppression_not_found");
  });

  it("explains bad input", async () => {
    const t = await createTestWorkspace(app.ctx.database);
    const headers = { authorization: `Bearer ${t.secretKey}` };
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: "POST", url: "/api/v1/suppressions", headers, payload });
    expect((await post({ channel: "fax", address: "1" })).statusCode).toBe(400);
    const badEmail = await post({ channel: "email", address: "nope" });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.code).toBe("consent.invalid_address");
    expect((await post({ channel: "email", address: "a@example.com", reason: "erased" })).statusCode).toBe(
      400,
    );
    const badChannel = await app.inject({ method: "DELETE", url: "/api/v1/suppressions/fax/1", headers });
    expect(badChannel.statusCode).toBe(400);
    expect(badChannel.json().error.code).toBe("consent.invalid_channel");
    const list = await app.inject({ method: "GET", url: "/api/v1/suppressions", headers });
    expect(list.json().data).toEqual([]);
  });
});
