import { consentLedger, recordConsent } from "../../consent/ledger.ts";
import { addSuppression, removeSuppression, suppressionsFor } from "../../consent/suppressions.ts";
import type { Db } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import type { KeywordAction } from "./keywords.ts";

export type KeywordRequest = {
  customerId: string;
  channel: "sms" | "whatsapp";
  /** The customer's number (E.164). */
  number: string;
  action: KeywordAction;
  keyword: string;
  messageSid: string;
  /** The message was already stored: Twilio is retrying a post we took in. */
  duplicate: boolean;
};

// a replay's change is already in the ledger when its message id is among the latest entries
async function alreadyRecorded(db: Db, workspaceId: string, customerId: string, messageSid: string) {
  const { data } = await consentLedger(db, workspaceId, customerId, { limit: 50 });
  return data.some((e) => e.source === "sms_keyword" && e.proof.messageId === messageSid);
}

/**
 * Applies a carrier keyword: STOP unsubscribes the number's channel from every topic and
 * suppresses the number (carriers block everything after a STOP), START undoes both (only a
 * suppression STOP made), HELP changes nothing. A replayed post changes nothing twice.
 * Returns whether consent changed.
 */
export async function applySmsKeyword(db: Db, workspaceId: string, k: KeywordRequest): Promise<boolean> {
  if (k.action === "help") return false;
  if (k.duplicate && (await alreadyRecorded(db, workspaceId, k.customerId, k.messageSid))) return false;
  const status = k.action === "stop" ? "unsubscribed" : "subscribed";
  await recordConsent(
    db,
    workspaceId,
    k.customerId,
    [{ channel: k.channel, topicId: null, status }],
    "sms_keyword",
    {
      messageId: k.messageSid,
      keyword: k.keyword,
    },
  );
  if (k.action === "stop") {
    await addSuppression(db, workspaceId, {
      channel: k.channel,
      address: k.number,
      reason: "sms_stop",
      details: { messageId: k.messageSid, keyword: k.keyword },
    });
    return true;
  }
  const [held] = await suppressionsFor(db, workspaceId, [{ channel: k.channel, address: k.number }]);
  // a bounce, a manual block or an erasure is not the customer's to lift by text
  if (held?.reason === "sms_stop") {
    await removeSuppression(db, workspaceId, k.channel, k.number).catch((err: unknown) => {
      if (!isAppError(err, "consent.suppression_not_found")) throw err;
    });
  }
  return true;
}
