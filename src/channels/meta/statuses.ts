import type { Db } from "../../db/client.ts";
import { type DeliveryView, listDeliveries } from "../../delivery/deliveries.ts";
import { recordProviderStatus } from "../../delivery/status.ts";
import { type IdentityKind, identifierKey, lookupIdentities } from "../../profiles/identifiers.ts";
import type { MetaStatus } from "./events.ts";

/** The provider kind recorded on deliveries the Meta provider sent (src/channels/meta/provider.ts). */
export const META_PROVIDER_KIND = "meta";

// the newest deliveries looked at for a watermark: reads and deliveries concern the latest messages
const RECENT = 100;
// a delivery's row is written before Meta stamps the message, and marked sent just after
const SENT_SLACK_MS = 30_000;

// comments are Graph objects with numeric ids (`123`, `post_comment`); messages have mids (`m_…`, `aWdf…`)
const isCommentId = (id: string) => /^\d+(_\d+)?$/.test(id);

/**
 * The page's recent messages to one person (a PSID or an Instagram-scoped id), newest first:
 * the deliveries the Meta provider sent to that address. Empty when nobody has that id.
 */
export async function recentMetaDeliveries(
  db: Db,
  workspaceId: string,
  identity: { kind: IdentityKind; value: string },
): Promise<DeliveryView[]> {
  const owners = await lookupIdentities(db, workspaceId, [identity]);
  const customerId = owners.get(identifierKey(identity));
  if (!customerId) return [];
  const { data } = await listDeliveries(db, workspaceId, {
    customerId,
    provider: META_PROVIDER_KIND,
    limit: RECENT,
  });
  return data.filter((d) => d.address === identity.value && d.providerMessageId);
}

/**
 * Applies Messenger's delivery and read news, and Instagram's read news, to the delivery
 * ledger through the one status path. Messenger names delivered messages by mid when it can
 * and otherwise by a watermark ("everything sent up to then"); a watermark covers the
 * deliveries whose row was written by then and that were marked sent within 30 s after it (the
 * ledger marks a message sent just after Meta stamps it). Instagram's read names the last
 * message seen: it and everything before it are read. Only messages are covered (DMs and
 * private replies, which land in the DM thread), never comments. Answers how many
 * deliveries the news named.
 */
export async function applyMetaStatus(
  db: Db,
  workspaceId: string,
  identityKind: IdentityKind,
  status: MetaStatus,
): Promise<number> {
  const details = { meta: status.state === "opened" ? "read" : "delivery" };
  const record = (providerMessageId: string) =>
    recordProviderStatus(db, workspaceId, {
      provider: META_PROVIDER_KIND,
      providerMessageId,
      state: status.state,
      details,
      ...(status.at ? { at: status.at } : {}),
    });
  let moved = 0;
  const named = new Set(status.mids);
  for (const mid of named) if (await record(mid)) moved++;
  if (named.size > 0 || (!status.watermark && !status.mid)) return moved;

  const recent = await recentMetaDeliveries(db, workspaceId, { kind: identityKind, value: status.contactId });
  let covers: (d: DeliveryView) => boolean;
  if (status.watermark) {
    const mark = status.watermark.getTime();
    covers = (d) =>
      Date.parse(d.createdAt) <= mark && d.sentAt !== null && Date.parse(d.sentAt) <= mark + SENT_SLACK_MS;
  } else {
    const last = recent.find((d) => d.providerMessageId === status.mid);
    if (!last) return moved;
    covers = (d) => Date.parse(d.createdAt) <= Date.parse(last.createdAt);
  }
  // only news that moves a message forward: a read message is not "delivered" again
  const open = status.state === "opened" ? ["sent", "delivered"] : ["sent"];
  for (const d of recent) {
    // a read in the DM thread says nothing of a public reply under a comment
    if (!d.providerMessageId || isCommentId(d.providerMessageId)) continue;
    if (!open.includes(d.state) || !covers(d)) continue;
    if (await record(d.providerMessageId)) moved++;
  }
  return moved;
}
