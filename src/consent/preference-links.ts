import { eq } from "drizzle-orm";
import type { ConsentEntry } from "../contracts/consent.ts";
import type { Db } from "../db/client.ts";
import { sendMessage } from "../delivery/send.ts";
import { isAppError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { findByIdentifier } from "../profiles/customers.ts";
import { recordConsent } from "./ledger.ts";
import {
  LINK_TTL_SECONDS,
  type LinkClaims,
  peekWorkspace,
  signLinkToken,
  verifyLinkToken,
} from "./link-tokens.ts";
import { loadCustomer, preferencesOf } from "./preferences.ts";
import { getMessagingSettings, type MessagingSettings } from "./settings.ts";
import { CHANNELS, type Channel, messagingSettings } from "./tables.ts";

export type LinkTarget = {
  workspaceId: string;
  customerId: string;
  channel?: Channel | undefined;
  topicId?: string | undefined;
  deliveryId?: string | undefined;
};

/**
 * The two links every message carries: the preference center, and the unsubscribe link for
 * the message's channel × topic (the email's `List-Unsubscribe` too). Both are signed with
 * the workspace's link secret and work for `LINK_TTL_SECONDS`.
 */
export function preferenceLinks(
  settings: Pick<MessagingSettings, "linkSecret">,
  publicUrl: string,
  target: LinkTarget,
  nowMs: number = Date.now(),
): { preferences: string; unsubscribe: string } {
  const exp = Math.floor(nowMs / 1000) + LINK_TTL_SECONDS;
  const base = publicUrl.replace(/\/$/, "");
  const common = { workspaceId: target.workspaceId, customerId: target.customerId, exp };
  const p = signLinkToken(settings.linkSecret, { purpose: "p", ...common });
  const u = signLinkToken(settings.linkSecret, {
    purpose: "u",
    ...common,
    ...(target.channel ? { channel: target.channel } : {}),
    ...(target.topicId ? { topicId: target.topicId } : {}),
    ...(target.deliveryId ? { deliveryId: target.deliveryId } : {}),
  });
  return { preferences: `${base}/preferences/${p}`, unsubscribe: `${base}/unsubscribe/${u}` };
}

export type LinkCheckResult =
  | { ok: true; claims: LinkClaims; settings: MessagingSettings }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired"; workspaceId: string | undefined };

/**
 * Checks a link token against its workspace's secret. The settings row is only read, never
 * created: a workspace without one never signed a link, and a forged token must not write.
 */
export async function checkLinkToken(
  db: Db,
  token: string,
  nowMs: number = Date.now(),
): Promise<LinkCheckResult> {
  const workspaceId = peekWorkspace(token);
  if (!workspaceId || !isUuid(workspaceId) || token.length > 2000) {
    return { ok: false, reason: "malformed", workspaceId: undefined };
  }
  const [settings] = await db
    .select()
    .from(messagingSettings)
    .where(eq(messagingSettings.workspaceId, workspaceId));
  if (!settings) return { ok: false, reason: "malformed", workspaceId: undefined };
  const check = verifyLinkToken(settings.linkSecret, token, nowMs);
  return check.ok
    ? { ok: true, claims: check.claims, settings }
    : { ok: false, reason: check.reason, workspaceId };
}

const MESSAGES = {
  en: {
    subject: "Your link to manage your preferences",
    text: (url: string) =>
      `You asked for a new link to choose which messages you receive from us.\n\n${url}\n\n` +
      "If you did not ask for it, you can ignore this message.",
  },
  fr: {
    subject: "Votre lien pour gérer vos préférences",
    text: (url: string) =>
      `Vous avez demandé un nouveau lien pour choisir les messages que vous recevez de notre part.\n\n${url}\n\n` +
      "Si vous n'avez rien demandé, ignorez simplement ce message.",
  },
};

/** How a fresh link is sent: `sendMessage` from the delivery engine, or a stand-in in tests. */
export type SendFn = typeof sendMessage;

const HOUR_MS = 3600_000;

/**
 * Sends a fresh preference-center link to the customer who holds this email address in the
 * workspace, if any, as an `account` message. Repeated requests within the same hour reuse
 * one idempotency key and one identical link, so they send one message. Answers whether a
 * customer was found, which callers must not reveal (no address enumeration).
 */
export async function sendFreshPreferenceLink(
  db: Db,
  workspaceId: string,
  input: {
    email: string;
    publicUrl: string;
    defaultCountry: string;
    language: "en" | "fr";
    send?: SendFn;
    nowMs?: number;
  },
): Promise<{ sent: boolean }> {
  let customer: Awaited<ReturnType<typeof findByIdentifier>>;
  try {
    customer = await findByIdentifier(db, workspaceId, "email", input.email, input.defaultCountry);
  } catch (err) {
    if (isAppError(err)) return { sent: false };
    throw err;
  }
  if (!customer) return { sent: false };
  const nowMs = input.nowMs ?? Date.now();
  const bucket = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const settings = await getMessagingSettings(db, workspaceId);
  const links = preferenceLinks(settings, input.publicUrl, { workspaceId, customerId: customer.id }, bucket);
  const preferred = (await preferencesOf(db, workspaceId, customer.id)).language;
  const lang = preferred === "fr" || preferred === "en" ? preferred : input.language;
  const m = MESSAGES[lang];
  await (input.send ?? sendMessage)(
    db,
    workspaceId,
    {
      customerId: customer.id,
      topic: "account",
      channel: "email",
      content: { subject: m.subject, text: m.text(links.preferences) },
      idempotencyKey: `preference-link:${customer.id}:${bucket}`,
      source: "preference_center",
    },
    { publicUrl: input.publicUrl },
  );
  return { sent: true };
}

/** A signed preference-center link for a customer (agents send it by hand); a merged id gives its survivor's. */
export async function preferenceLinkFor(
  db: Db,
  workspaceId: string,
  customerId: string,
  publicUrl: string,
): Promise<string> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  const settings = await getMessagingSettings(db, workspaceId);
  return preferenceLinks(settings, publicUrl, { workspaceId, customerId: customer.id }).preferences;
}

/**
 * Unsubscribes what an unsubscribe link stands for, at once (RFC 8058 one-click): its
 * channel × topic; a link without a topic stops the whole channel, one without a channel
 * stops the topic everywhere, one with neither stops every channel.
 */
export async function unsubscribeByLink(
  db: Db,
  claims: LinkClaims,
  proof: { ip?: string; userAgent?: string },
  source: "one_click" | "preference_center" = "one_click",
): Promise<ConsentEntry[]> {
  const channels: readonly Channel[] = claims.channel ? [claims.channel] : CHANNELS;
  const changes = channels.map((channel) => ({
    channel,
    topicId: claims.topicId ?? null,
    status: "unsubscribed" as const,
  }));
  return recordConsent(db, claims.workspaceId, claims.customerId, changes, source, {
    ...proof,
    ...(claims.deliveryId ? { deliveryId: claims.deliveryId } : {}),
  });
}
