import { sql } from "drizzle-orm";
import { z } from "zod";
import { rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { emitWebhookEvent } from "../delivery/webhooks/dispatch.ts";
import { defineTask } from "../jobs/index.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { conversationsTopic } from "./inbound.ts";

/** Reopens snoozed conversations whose time has come, in every workspace, and tells agents. */
export const wakeSnoozedTask = defineTask({
  name: "conversations.wake_snoozed",
  schema: z.object({}),
  maxAttempts: 1,
  handler: async (_payload, job) => {
    await transactionWithRetry(job.db, async (tx) => {
      const woken = await rows<{ workspaceId: string; id: string }>(
        tx,
        sql`UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = now()
            WHERE status = 'snoozed' AND snoozed_until <= now()
            RETURNING workspace_id::text AS "workspaceId", id::text AS id`,
      );
      for (const w of woken) {
        const change = { conversationId: w.id, changes: ["status"], reason: "snooze_ended" };
        await publishInTransaction(tx, conversationsTopic(w.workspaceId), {
          type: "conversation.updated",
          ...change,
        });
        await emitWebhookEvent(tx, w.workspaceId, "conversation.updated", change);
      }
    });
  },
});

export const wakeSnoozedSchedule = {
  name: "conversations.wake_snoozed",
  cron: "0 * * * * *",
  task: wakeSnoozedTask,
  payload: {},
};
