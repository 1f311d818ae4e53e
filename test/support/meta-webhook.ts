import { expect } from "vitest";
import { createInbox, type Inbox } from "../../src/conversations/inboxes.ts";
import type { Db } from "../../src/db/client.ts";
import type { App } from "../../src/http/app.ts";
import { signMeta } from "./fake-graph.ts";

// One Facebook page and one Instagram account, with the app secret and page token their
// webhooks and Graph calls use in the Meta tests.
export const PAGE = "109876543210987";
export const IG = "17841400000000001";
export const SECRET = "meta-app-secret-7f3a";
export const TOKEN = "EAAGm0PX4ZCpsBO7ZBfake0page0token";

/** A Messenger or Instagram inbox whose replies and reads go to the fake Graph at `graphBaseUrl`. */
export function metaTestInbox(
  db: Db,
  workspaceId: string,
  kind: "messenger" | "instagram",
  graphBaseUrl: string,
  config: object = {},
): Promise<Inbox> {
  return createInbox(db, workspaceId, {
    kind,
    name: kind === "messenger" ? "Facebook page" : "Instagram",
    address: kind === "messenger" ? PAGE : IG,
    config: { appSecret: SECRET, verifyToken: "verify", pageAccessToken: TOKEN, graphBaseUrl, ...config },
  });
}

/** Posts a body to the inbox's Meta webhook, signed as Meta signs it; expects 200 and answers the JSON. */
export async function postMetaWebhook(app: App, workspaceId: string, inboxId: string, body: string) {
  const res = await app.inject({
    method: "POST",
    url: `/webhooks/meta/${workspaceId}/inbox/${inboxId}`,
    headers: { "content-type": "application/json", "x-hub-signature-256": signMeta(body, SECRET) },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
