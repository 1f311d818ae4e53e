import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { recordProviderStatus } from "../status.ts";
import { deliveryProviders } from "../tables.ts";
import { TwilioConfig, type TwilioParams, twilioStatusState, verifyTwilioSignature } from "./twilio.ts";

/** A form post's fields as fastify's form parser gives them (a repeated name becomes a list). */
export const FormParams = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

const StatusCallback = z.object({
  MessageSid: z.string().min(1),
  MessageStatus: z.string().min(1),
  ErrorCode: z.string().optional(),
  AccountSid: z.string().optional(),
});

/** The workspace's Twilio settings (SMS and WhatsApp may use different accounts). */
async function twilioConfigs(db: Db, workspaceId: string): Promise<TwilioConfig[]> {
  const found = await db
    .select({ config: deliveryProviders.config })
    .from(deliveryProviders)
    .where(
      and(
        eq(deliveryProviders.workspaceId, workspaceId),
        eq(deliveryProviders.kind, "twilio"),
        inArray(deliveryProviders.channel, ["sms", "whatsapp"]),
      ),
    );
  return found.flatMap((r) => {
    const parsed = TwilioConfig.safeParse(r.config);
    return parsed.success ? [parsed.data] : [];
  });
}

export type TwilioCallbackOutcome =
  | { recorded: boolean; state: "sent" | "delivered" | "opened" | "failed" }
  | { recorded: false; ignored: string };

/**
 * Handles a Twilio status callback for a workspace: checks `X-Twilio-Signature` against the
 * auth token of each of its Twilio providers over the public URL Twilio called, then records
 * the status. A bad or missing signature throws `twilio.forbidden` (403) before anything is read
 * from the payload.
 */
export async function handleTwilioStatusCallback(
  db: Db,
  workspaceId: string,
  request: { url: string; signature: string | undefined; body: unknown },
): Promise<TwilioCallbackOutcome> {
  const params: TwilioParams = FormParams.safeParse(request.body ?? {}).data ?? {};
  const configs = await twilioConfigs(db, workspaceId);
  const tokens = [...new Set(configs.map((c) => c.authToken))];
  const signature = request.signature;
  if (!signature || !tokens.some((token) => verifyTwilioSignature(token, request.url, params, signature))) {
    throw new AppError(
      "twilio.forbidden",
      configs.length === 0
        ? "This workspace has no Twilio provider, so no Twilio callback can be verified."
        : "X-Twilio-Signature does not match this workspace's Twilio auth token for this URL.",
    );
  }
  const parsed = StatusCallback.safeParse(params);
  if (!parsed.success) {
    throw new AppError(
      "twilio.invalid_callback",
      "A Twilio status callback needs MessageSid and MessageStatus form fields.",
      { issues: parsed.error.issues.map((i) => i.path.join(".")) },
    );
  }
  const cb = parsed.data;
  const state = twilioStatusState(cb.MessageStatus);
  if (!state) return { recorded: false, ignored: cb.MessageStatus };
  const recorded = await recordProviderStatus(db, workspaceId, {
    provider: "twilio",
    providerMessageId: cb.MessageSid,
    state,
    details: {
      messageStatus: cb.MessageStatus,
      ...(cb.ErrorCode ? { errorCode: cb.ErrorCode } : {}),
      // the ledger keeps `reason` as the delivery's error
      ...(state === "failed"
        ? { reason: cb.ErrorCode ? `twilio_error: ${cb.ErrorCode}` : `twilio_${cb.MessageStatus}` }
        : {}),
    },
  });
  return { recorded, state };
}
