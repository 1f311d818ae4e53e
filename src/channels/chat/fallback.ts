import { sql } from "drizzle-orm";
import { z } from "zod";
import { getConversation } from "../../conversations/conversations.ts";
import { getInbox } from "../../conversations/inboxes.ts";
import { type Db, rows } from "../../db/client.ts";
import { getDelivery } from "../../delivery/deliveries.ts";
import { type SendOutcome, sendMessage } from "../../delivery/send.ts";
import { isAppError } from "../../errors.ts";
import { defineTask, enqueue } from "../../jobs/index.ts";
import { getCustomer } from "../../profiles/customers.ts";

const Payload = z.object({ workspaceId: z.uuid(), deliveryId: z.uuid() });

/** What became of an unseen reply when its time ran out. */
export type FallbackOutcome =
  | { action: "none"; reason: "seen" | "not_sent" | "no_email" | "gone" }
  | { action: "emailed"; delivery: SendOutcome };

const STRINGS = {
  en: {
    subject: (brand: string) => `New reply from ${brand}`,
    intro: (brand: string) => `${brand} answered your chat message:`,
    outro: "Reply to this email to go on with the conversation.",
    back: (url: string) => `Or go back to the chat: ${url}`,
  },
  fr: {
    subject: (brand: string) => `Nouvelle réponse de ${brand}`,
    intro: (brand: string) => `${brand} a répondu à votre message sur le chat :`,
    outro: "Répondez à cet e-mail pour poursuivre la conversation.",
    back: (url: string) => `Ou revenez au chat : ${url}`,
  },
};

/**
 * Sends an agent's chat reply by email when the visitor has not seen it: the widget was
 * closed, or they left. Runs `emailFallbackMinutes` after the reply reached the widget; a
 * reply acknowledged as seen (its delivery `opened`), or a visitor Rapport has no email for,
 * sends nothing. The email goes through the Gate and the ledger (topic `support`, channel
 * email), once per reply whatever the retries.
 */
export const emailFallbackTask = defineTask({
  name: "chat.email_fallback",
  schema: Payload,
  maxAttempts: 5,
  handler: async (payload, job) => {
    const outcome = await sendUnseenReplyByEmail(job.db, payload.workspaceId, payload.deliveryId);
    job.logger.debug({ ...payload, outcome: outcome.action }, "chat email fallback");
  },
});

/** Schedules the email fallback of a chat reply; one job per reply, however often it is sent. */
export async function enqueueEmailFallback(
  db: Db,
  workspaceId: string,
  deliveryId: string,
  minutes: number,
): Promise<void> {
  await enqueue(db, {
    task: emailFallbackTask,
    payload: { workspaceId, deliveryId },
    delayMs: minutes * 60_000,
    dedupeKey: `chat.email_fallback:${deliveryId}`,
    workspaceId,
  });
}

/** The fallback's work for one reply (the task's handler; callable directly). */
export async function sendUnseenReplyByEmail(
  db: Db,
  workspaceId: string,
  deliveryId: string,
): Promise<FallbackOutcome> {
  const delivery = await getDelivery(db, workspaceId, deliveryId).catch((err: unknown) => {
    if (isAppError(err)) return undefined;
    throw err;
  });
  if (!delivery?.sourceRef) return { action: "none", reason: "gone" };
  if (delivery.state === "opened" || delivery.state === "clicked") return { action: "none", reason: "seen" };
  if (delivery.state !== "sent" && delivery.state !== "delivered")
    return { action: "none", reason: "not_sent" };
  const customer = await getCustomer(db, workspaceId, delivery.customerId);
  if (!customer.identities.some((i) => i.kind === "email")) return { action: "none", reason: "no_email" };
  const conversation = await getConversation(db, workspaceId, delivery.sourceRef);
  const inbox = await getInbox(db, workspaceId, conversation.inboxId);
  const t = delivery.language?.startsWith("fr") ? STRINGS.fr : STRINGS.en;
  const back = conversation.source.pageUrl?.startsWith("http") ? t.back(conversation.source.pageUrl) : "";
  const outcome = await sendMessage(
    db,
    workspaceId,
    {
      customerId: customer.id,
      topic: "support",
      channel: "email",
      // the agent's words travel as data: what people wrote is never read as Liquid
      content: {
        subject: "{{ data.subject }}",
        text: "{{ data.intro }}\n\n{{ data.reply }}\n\n{{ data.outro }}\n{{ data.back }}",
      },
      data: {
        subject: t.subject(inbox.name),
        intro: t.intro(inbox.name),
        reply: delivery.content?.text ?? "",
        outro: t.outro,
        back,
      },
      idempotencyKey: `chat-fallback:${deliveryId}`,
      source: "chat_fallback",
      sourceRef: conversation.id,
    },
    { publicUrl: await publicUrlOf(db, workspaceId, deliveryId) },
  );
  return { action: "emailed", delivery: outcome };
}

/**
 * The public URL the reply was sent with (its links point there). Providers and jobs are not
 * handed the server's configuration, and the delivery request keeps it, so it is read back.
 */
async function publicUrlOf(db: Db, workspaceId: string, deliveryId: string): Promise<string> {
  const [row] = await rows<{ publicUrl: string | null }>(
    db,
    sql`SELECT request->>'publicUrl' AS "publicUrl" FROM deliveries
        WHERE workspace_id = ${workspaceId} AND id = ${deliveryId}`,
  );
  if (!row?.publicUrl) throw new Error(`delivery ${deliveryId} keeps no public URL`);
  return row.publicUrl;
}
