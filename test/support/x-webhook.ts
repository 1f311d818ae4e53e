import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll } from "vitest";
import { createInbox, type Inbox } from "../../src/conversations/inboxes.ts";
import { rows } from "../../src/db/client.ts";
import { testDatabase } from "../../src/db/testing.ts";
import type { App } from "../../src/http/app.ts";
import { type TestWorkspace, testApp } from "./factories.ts";
import { signLikeX } from "./fake-x.ts";

// What the X webhook tests share: one app for the file, an X inbox, signed posts, and reads of
// what was stored.

export const SECRET = "x-consumer-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
export const BRAND_ID = "1372648374726402050";

/** A fixture as X posts it: the exact text (big numeric ids and all), and a parsed copy to patch. */
export const raw = (name: string) => readFileSync(`test/fixtures/x/${name}.json`, "utf8");

let app: App;
/** Opens the file's app before its tests and closes it after; answers a getter for it. */
export function withXApp(): () => App {
  beforeAll(async () => {
    app = await testApp({ RAPPORT_DEFAULT_COUNTRY: "FR" });
  });
  afterAll(async () => app?.close());
  return () => app;
}
export const db = async () => (await testDatabase()).db;

export async function xInbox(t: TestWorkspace, config: Record<string, unknown> = {}) {
  return createInbox(await db(), t.workspace.id, {
    kind: "x",
    name: "@MelodiaCares",
    address: "MelodiaCares",
    config: { consumerSecret: SECRET, userId: BRAND_ID, ...config },
  });
}

export const path = (t: TestWorkspace, inbox: Inbox, query = "") =>
  `/webhooks/x/${t.workspace.id}/inbox/${inbox.id}${query}`;

export function post(url: string, body: string, signature: string | undefined) {
  return app.inject({
    method: "POST",
    url,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...(signature !== undefined ? { "x-twitter-webhooks-signature": signature } : {}),
    },
    payload: body,
  });
}

export const postSigned = (url: string, body: string) => post(url, body, signLikeX(SECRET, body));

export async function messagesOf(workspaceId: string) {
  return rows<{
    conversationId: string;
    direction: string;
    text: string;
    providerMessageId: string | null;
    metadata: Record<string, unknown>;
  }>(
    await db(),
    sql`SELECT conversation_id::text AS "conversationId", direction, text, provider_message_id AS "providerMessageId",
          metadata
        FROM conversation_messages WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

export async function conversationsOf(workspaceId: string) {
  return rows<{
    id: string;
    customerId: string;
    contactAddress: string | null;
    channel: string | null;
    threadKey: string | null;
    status: string;
  }>(
    await db(),
    sql`SELECT id::text AS id, customer_id::text AS "customerId", contact_address AS "contactAddress", channel,
          thread_key AS "threadKey", status
        FROM conversations WHERE workspace_id = ${workspaceId} ORDER BY number`,
  );
}

export async function customerCount(workspaceId: string) {
  const [row] = await rows<{ n: number }>(
    await db(),
    sql`SELECT count(*)::int AS n FROM customers WHERE workspace_id = ${workspaceId}`,
  );
  return row?.n;
}
