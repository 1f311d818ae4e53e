import type { Logger } from "pino";
import type { Db } from "../../db/client.ts";
import { recordProviderStatus } from "../../delivery/status.ts";
import { readBounce } from "./bounce.ts";
import type { ParsedEmail } from "./parse.ts";
import { sentEmailByMessageIds } from "./routing.ts";

type BounceResult = {
  kind: "bounce";
  recorded: boolean;
  workspaceId: string | undefined;
  originalMessageId: string | undefined;
};

/**
 * Turns a bounce into delivery-ledger news: the delivery that carried the failed Message-ID
 * becomes `bounced` (and its address suppressed on a hard bounce, by `recordProviderStatus`).
 * A bounce is never a conversation; one for a message Rapport did not send is dropped.
 */
export async function handleBounce(
  db: Db,
  workspaceId: string | undefined,
  mail: ParsedEmail,
  logger: Pick<Logger, "info" | "warn"> | undefined,
): Promise<BounceResult> {
  const bounce = readBounce(mail);
  const originalMessageId = bounce?.originalMessageId;
  if (!bounce || !originalMessageId) {
    logger?.info(
      { messageId: mail.messageId, reason: bounce ? "no original Message-ID" : "not a failure" },
      "inbound email: a delivery report was dropped",
    );
    return { kind: "bounce", recorded: false, workspaceId, originalMessageId };
  }
  const sent = await sentEmailByMessageIds(db, workspaceId, [originalMessageId]);
  const recorded = sent
    ? await recordProviderStatus(db, sent.workspaceId, {
        provider: "smtp",
        providerMessageId: originalMessageId,
        state: "bounced",
        details: {
          status: bounce.status ?? null,
          diagnostic: bounce.diagnostic ?? null,
          hard: bounce.hard,
          ...(bounce.recipient ? { recipient: bounce.recipient } : {}),
          reason: bounce.diagnostic ?? (bounce.status ? `bounced: ${bounce.status}` : "bounced"),
        },
      })
    : false;
  if (!recorded) {
    logger?.info(
      { messageId: mail.messageId, originalMessageId },
      "inbound email: a bounce for a message Rapport did not send was dropped",
    );
  }
  return { kind: "bounce", recorded, workspaceId: sent?.workspaceId ?? workspaceId, originalMessageId };
}
