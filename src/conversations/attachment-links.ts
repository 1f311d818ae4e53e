import { createHmac, timingSafeEqual } from "node:crypto";
import { getMessagingSettings } from "../consent/settings.ts";
import type { Db } from "../db/client.ts";
import { isUuid } from "../ids.ts";
import { getWorkspace } from "../platform/workspaces.ts";
import { isAttachmentKey } from "./attachments.ts";

/** How long a file's public link works: Twilio fetches at once, a customer may open a link days later. */
export const ATTACHMENT_LINK_TTL_SECONDS = 7 * 24 * 3600;

// a key of its own for these links: a signature made for files can stand for nothing else
function linkKey(linkSecret: string): Buffer {
  return createHmac("sha256", linkSecret).update("attachment-link").digest();
}

function signature(linkSecret: string, workspaceId: string, key: string, exp: number): string {
  return createHmac("sha256", linkKey(linkSecret)).update(`${workspaceId}|${key}|${exp}`).digest("base64url");
}

/** The path of a file's public link (under Rapport's public URL). */
export function publicAttachmentPath(workspaceId: string, key: string): string {
  return `/files/v1/${workspaceId}/${key}`;
}

/**
 * A public, signed link to one file of the workspace's attachment store that works until it
 * expires: what an MMS's MediaUrl or a link in a chat reply points to, for someone without a
 * session (Twilio, the customer).
 */
export async function signedAttachmentUrl(
  db: Db,
  workspaceId: string,
  key: string,
  opts: { publicUrl: string; nowMs?: number },
): Promise<string> {
  const { linkSecret } = await getMessagingSettings(db, workspaceId);
  const exp = Math.floor((opts.nowMs ?? Date.now()) / 1000) + ATTACHMENT_LINK_TTL_SECONDS;
  const sig = signature(linkSecret, workspaceId, key, exp);
  return `${opts.publicUrl.replace(/\/$/, "")}${publicAttachmentPath(workspaceId, key)}?exp=${exp}&sig=${sig}`;
}

/** Whether a public link's signature and expiry hold for this workspace and key. */
export async function checkAttachmentLink(
  db: Db,
  workspaceId: string,
  key: string,
  link: { exp?: string | undefined; sig?: string | undefined },
  nowMs = Date.now(),
): Promise<"ok" | "expired" | "invalid"> {
  if (!isAttachmentKey(key) || !link.sig || !link.exp || !/^\d{1,12}$/.test(link.exp)) return "invalid";
  const exp = Number(link.exp);
  // an unknown workspace is refused before anything would be made for it
  if (!isUuid(workspaceId) || !(await getWorkspace(db, workspaceId))) return "invalid";
  const { linkSecret } = await getMessagingSettings(db, workspaceId);
  const expected = Buffer.from(signature(linkSecret, workspaceId, key, exp));
  const given = Buffer.from(link.sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
  return exp * 1000 < nowMs ? "expired" : "ok";
}
