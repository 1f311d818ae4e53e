import { sql } from "drizzle-orm";
import { z } from "zod";
import { loadGateContext } from "../consent/gate-input.ts";
import { addSuppression } from "../consent/suppressions.ts";
import type { Channel } from "../consent/tables.ts";
import { publishMessageUpdates } from "../conversations/message-updates.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { eachValue } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import { backoffDelayMs, defineTask, enqueue } from "../jobs/index.ts";
import { getCustomer } from "../profiles/customers.ts";
import { decideLocked } from "./gate-lock.ts";
import { insertEvents } from "./history.ts";
import { prepareContent, type StoredRequest } from "./prepare.ts";
import { providerForInbox } from "./providers/inbox.ts";
import { providerFor } from "./providers/registry.ts";
import { twilioStatusCallbackUrl } from "./providers/twilio.ts";
import type { Provider, SendResult } from "./providers/types.ts";
import type { DeliveryState, RenderedContent } from "./tables.ts";
import { emitDeliveryEvent, emitDeliveryEvents } from "./webhook-events.ts";

/** Attempts at a provider before a retryable failure becomes final. */
export const MAX_SEND_ATTEMPTS = 8;

/** Retry pacing of provider failures; tests shorten it. */
export const retryPacing = { baseMs: 10_000, maxMs: 60 * 60 * 1000 };

/** Sends a batch of deliveries (or re-runs the Gate for deferred ones when their time comes). */
export const deliverTask = defineTask({
  name: "delivery.send",
  queue: "delivery",
  schema: z.object({ workspaceId: z.uuid(), deliveryIds: z.array(z.uuid()).min(1).max(1000) }),
  // provider failures are retried by re-enqueueing (honouring Retry-After); these cover the database
  maxAttempts: 10,
  handler: async (payload, job) => {
    await runDeliveries(job.db, payload.workspaceId, payload.deliveryIds, { signal: job.signal });
  },
});

/** Provider calls in flight at once within one job. */
const CONCURRENT_SENDS = 16;

type Row = {
  id: string;
  tid: string;
  customerId: string;
  channel: Channel | null;
  kind: "marketing" | "transactional";
  address: string | null;
  content: RenderedContent | null;
  request: StoredRequest & { channel?: Channel; address?: string };
  idempotencyKey: string;
  state: DeliveryState;
  attempts: number;
  /** Who asked ("agent" for a conversation's reply): whether screens hear of its state. */
  source: string;
};

async function load(db: Db, workspaceId: string, ids: readonly string[]): Promise<Row[]> {
  return rows<Row>(
    db,
    sql`SELECT d.id::text AS id, d.ctid::text AS tid, d.customer_id::text AS "customerId", d.channel, d.kind,
          d.address, d.content, d.request, d.idempotency_key AS "idempotencyKey", d.state, d.attempts, d.source
        FROM ${eachValue(ids)} CROSS JOIN LATERAL (SELECT ctid, * FROM deliveries
          WHERE workspace_id = ${workspaceId} AND id = x.v::uuid) AS d`,
  );
}

/** `runDeliveries` for one delivery; answers its state afterwards. */
export async function runDelivery(
  db: Db,
  workspaceId: string,
  deliveryId: string,
  opts: { signal?: AbortSignal; now?: Date } = {},
): Promise<DeliveryState | undefined> {
  return (await runDeliveries(db, workspaceId, [deliveryId], opts)).get(deliveryId);
}

/**
 * The delivery engine's step over a batch: deferred deliveries meet the Gate again (consent,
 * caps or quiet hours may have changed); queued ones are marked `sending` (committed, with
 * the attempt counted, before any provider is called), sent with their idempotency keys, and
 * recorded together. A retryable failure comes back later on its own; anything else is final.
 * Safe to run twice: after a crash, deliveries left `sending` are sent again with the same
 * key, which providers that honour keys (and the email Message-ID) recognise.
 */
export async function runDeliveries(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
  opts: { signal?: AbortSignal; now?: Date } = {},
): Promise<Map<string, DeliveryState>> {
  const states = new Map<string, DeliveryState>();
  const ready: Row[] = [];
  for (let row of await load(db, workspaceId, ids)) {
    if (row.state === "deferred") {
      const next = await regate(db, workspaceId, row, opts.now ?? new Date());
      if (!next) continue;
      row = next;
    }
    states.set(row.id, row.state);
    if (row.state === "queued" || row.state === "sending") ready.push(row);
  }
  const sendable = ready.filter((r) => r.channel && r.address && r.content);
  for (const r of ready.filter((r) => !sendable.includes(r))) {
    states.set(
      r.id,
      await finishOne(db, workspaceId, r, "failed", {
        reason: "nothing to send: no channel, address or content",
      }),
    );
  }
  const attempts = await markSending(db, workspaceId, sendable);
  const go = sendable.filter((r) => attempts.has(r.id));
  const results = new Map<string, { kind: string; result: SendResult }>();
  // one provider lookup per channel (and per inbox, for replies through one) for the whole batch
  const providers = new Map<string, Promise<Provider>>();
  const providerOf = (channel: Channel, inboxId: string | undefined) => {
    const key = `${channel}|${inboxId ?? ""}`;
    let p = providers.get(key);
    if (!p) {
      p = inboxId
        ? providerForInbox(db, workspaceId, inboxId, channel)
        : providerFor(db, workspaceId, channel);
      providers.set(key, p);
    }
    return p;
  };
  let next = 0;
  const lane = async () => {
    for (let k = next++; k < go.length; k = next++) {
      const row = go[k] as Row & { channel: Channel; address: string; content: RenderedContent };
      const via = row.request.via;
      let provider: Provider;
      try {
        provider = await providerOf(row.channel, via?.inboxId);
      } catch (err) {
        // the inbox was deleted or its settings no longer parse: nothing another attempt could fix
        const reason = err instanceof Error ? err.message : String(err);
        results.set(row.id, { kind: "inbox", result: { ok: false, retryable: false, reason } });
        continue;
      }
      let result: SendResult;
      try {
        result = await provider.send(
          {
            workspaceId,
            deliveryId: row.id,
            customerId: row.customerId,
            channel: row.channel,
            to: row.address,
            content: row.content,
            idempotencyKey: row.idempotencyKey,
            ...(via ? { via } : {}),
            // only Twilio posts status callbacks so far
            ...(provider.kind === "twilio"
              ? { statusCallbackUrl: twilioStatusCallbackUrl(row.request.publicUrl, workspaceId) }
              : {}),
          },
          opts.signal ?? new AbortController().signal,
        );
      } catch (err) {
        result = { ok: false, retryable: true, reason: err instanceof Error ? err.message : String(err) };
      }
      results.set(row.id, { kind: provider.kind, result });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_SENDS, go.length) }, lane));

  const sent: Array<{ row: Row; state: DeliveryState; provider: string; providerMessageId: string }> = [];
  for (const row of go) {
    const r = results.get(row.id);
    if (!r) continue;
    const attempt = attempts.get(row.id) ?? 1;
    if (r.result.ok) {
      sent.push({
        row,
        state: r.result.state ?? "sent",
        provider: r.kind,
        providerMessageId: r.result.providerMessageId,
      });
      continue;
    }
    const reason = r.result.reason;
    if (r.result.retryable && attempt < MAX_SEND_ATTEMPTS) {
      states.set(row.id, await retryLater(db, workspaceId, row, attempt, reason, r.result.retryAfterMs));
    } else {
      await suppressOnFailure(db, workspaceId, row, r.kind, reason);
      states.set(
        row.id,
        await finishOne(db, workspaceId, row, "failed", { provider: r.kind, reason, attempt }),
      );
    }
  }
  if (sent.length > 0) {
    await finishSent(db, workspaceId, sent);
    for (const s of sent) states.set(s.row.id, s.state);
  }
  return states;
}

/** Commits `sending` and each attempt before any provider call; rows another run took are left out. */
async function markSending(db: Db, workspaceId: string, list: readonly Row[]): Promise<Map<string, number>> {
  if (list.length === 0) return new Map();
  return transactionWithRetry(db, async (tx) => {
    // rows found by id through the primary key, updated by tuple id (a TID scan, whatever the statistics)
    const marked = await rows<{ id: string; attempts: number; tid: string }>(
      tx,
      sql`UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = now()
          WHERE ctid = ANY(ARRAY(SELECT d.ctid FROM ${eachValue(list.map((r) => r.id))}
              CROSS JOIN LATERAL (SELECT ctid FROM deliveries WHERE workspace_id = ${workspaceId} AND id = x.v::uuid) AS d))
            AND workspace_id = ${workspaceId} AND state IN ('queued', 'sending')
          RETURNING id::text AS id, attempts, ctid::text AS tid`,
    );
    // the update moved each row: later writes in this run address the new tuples
    for (const m of marked) {
      const row = list.find((r) => r.id === m.id);
      if (row) row.tid = m.tid;
    }
    const byId = new Map(marked.map((m) => [m.id, Number(m.attempts)]));
    await insertEvents(
      tx,
      workspaceId,
      marked.map((m) => ({ deliveryId: m.id, state: "sending", details: { attempt: Number(m.attempts) } })),
    );
    await publishMessageUpdates(
      tx,
      workspaceId,
      list
        .filter((r) => byId.has(r.id))
        .map((r) => ({ deliveryId: r.id, state: "sending", source: r.source })),
    );
    return byId;
  });
}

/** Records the deliveries a provider accepted, together. */
async function finishSent(
  db: Db,
  workspaceId: string,
  sent: ReadonlyArray<{ row: Row; state: DeliveryState; provider: string; providerMessageId: string }>,
): Promise<void> {
  await transactionWithRetry(db, async (tx) => {
    const payload = sent.map((s) => ({
      id: s.row.id,
      state: s.state,
      provider: s.provider,
      pmid: s.providerMessageId,
    }));
    await tx.execute(sql`UPDATE deliveries AS d SET state = u.state, provider = u.provider, provider_message_id = u.pmid,
        sent_at = now(), updated_at = now(), error = NULL
      FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) AS u(id uuid, state text, provider text, pmid text)
      WHERE d.ctid = ANY(ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(sent.map((s) => s.row.tid))}::jsonb)::tid))
        AND d.workspace_id = ${workspaceId} AND d.id = u.id AND d.state = 'sending'`);
    await insertEvents(
      tx,
      workspaceId,
      sent.map((s) => ({
        deliveryId: s.row.id,
        state: s.state,
        details: { provider: s.provider, providerMessageId: s.providerMessageId },
      })),
    );
    await emitDeliveryEvents(
      tx,
      workspaceId,
      sent.map((s) => ({
        state: s.state,
        data: {
          deliveryId: s.row.id,
          customerId: s.row.customerId,
          channel: s.row.channel,
          topic: s.row.request.topic,
          providerMessageId: s.providerMessageId,
        },
      })),
    );
    await publishMessageUpdates(
      tx,
      workspaceId,
      sent.map((s) => ({ deliveryId: s.row.id, state: s.state, source: s.row.source })),
    );
  });
}

/** A retryable failure: back to queued, with a job of its own after the backoff (or the provider's Retry-After). */
async function retryLater(
  db: Db,
  workspaceId: string,
  row: Row,
  attempt: number,
  reason: string,
  retryAfterMs: number | undefined,
): Promise<DeliveryState> {
  const delay = Math.max(backoffDelayMs(attempt, { ...retryPacing, jitter: "full" }), retryAfterMs ?? 0);
  await transactionWithRetry(db, async (tx) => {
    await tx.execute(sql`UPDATE deliveries SET state = 'queued', updated_at = now(),
        error = ${JSON.stringify({ reason, retryable: true })}::jsonb
      WHERE workspace_id = ${workspaceId} AND id = ${row.id} AND state = 'sending'`);
    await event(tx, workspaceId, row.id, "queued", { attempt, retryInMs: delay, reason });
    await publishMessageUpdates(tx, workspaceId, [
      { deliveryId: row.id, state: "queued", source: row.source },
    ]);
    await enqueue(tx, {
      task: deliverTask,
      payload: { workspaceId, deliveryIds: [row.id] },
      workspaceId,
      delayMs: delay,
      dedupeKey: `delivery:${row.id}:${attempt}`,
    });
  });
  return "queued";
}

async function finishOne(
  db: Db,
  workspaceId: string,
  row: Row,
  state: DeliveryState,
  details: { provider?: string; providerMessageId?: string; reason?: string; attempt?: number },
): Promise<DeliveryState> {
  await transactionWithRetry(db, async (tx) => {
    await tx.execute(sql`UPDATE deliveries SET state = ${state}, updated_at = now(),
        provider = COALESCE(${details.provider ?? null}, provider),
        error = ${details.reason ? JSON.stringify({ reason: details.reason, retryable: false }) : null}::jsonb
      WHERE workspace_id = ${workspaceId} AND id = ${row.id}`);
    await event(tx, workspaceId, row.id, state, details);
    await emitDeliveryEvent(tx, workspaceId, state, {
      deliveryId: row.id,
      customerId: row.customerId,
      channel: row.channel,
      topic: row.request.topic,
      ...(details.reason ? { error: details.reason } : {}),
    });
    await publishMessageUpdates(tx, workspaceId, [{ deliveryId: row.id, state, source: row.source }]);
  });
  return state;
}

/** A deferred delivery's time has come: the Gate decides again, on today's consent and caps. */
async function regate(db: Db, workspaceId: string, row: Row, now: Date): Promise<Row | undefined> {
  let customer: Awaited<ReturnType<typeof getCustomer>>;
  let gate: Awaited<ReturnType<typeof loadGateContext>>;
  try {
    customer = await getCustomer(db, workspaceId, row.customerId);
    gate = await loadGateContext(db, workspaceId, customer, row.request.topic);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    await finishOne(db, workspaceId, row, "failed", { reason: err.message });
    return undefined;
  }
  return transactionWithRetry(db, async (tx) => {
    const d = await decideLocked(
      tx,
      workspaceId,
      customer.id,
      gate,
      row.request.channel,
      now,
      row.request.address,
    );
    if (d.action === "skip") {
      await tx.execute(sql`UPDATE deliveries SET state = 'skipped', updated_at = now(),
          gate = ${JSON.stringify({ action: "skip", reason: d.reason, details: { channels: d.channels } })}::jsonb
        WHERE workspace_id = ${workspaceId} AND id = ${row.id} AND state = 'deferred'`);
      await event(tx, workspaceId, row.id, "skipped", { reason: d.reason });
      await emitDeliveryEvent(tx, workspaceId, "skipped", {
        deliveryId: row.id,
        customerId: customer.id,
        topic: row.request.topic,
        reason: d.reason,
      });
      await publishMessageUpdates(tx, workspaceId, [
        { deliveryId: row.id, state: "skipped", source: row.source },
      ]);
      return { ...row, state: "skipped" as const };
    }
    if (d.action === "defer") {
      await tx.execute(sql`UPDATE deliveries SET deferred_until = ${d.until.toISOString()}::timestamptz, updated_at = now()
        WHERE workspace_id = ${workspaceId} AND id = ${row.id}`);
      await enqueue(tx, {
        task: deliverTask,
        payload: { workspaceId, deliveryIds: [row.id] },
        workspaceId,
        runAt: d.until,
        dedupeKey: `delivery:${row.id}:d${d.until.getTime()}`,
      });
      return { ...row };
    }
    // the channel may differ from the first decision: render for the one chosen now
    const prepared =
      d.channel === row.channel && row.content
        ? { content: row.content }
        : await prepareContent(tx, workspaceId, {
            deliveryId: row.id,
            customer,
            gate,
            channel: d.channel,
            request: row.request,
          });
    await tx.execute(sql`UPDATE deliveries SET state = 'queued', channel = ${d.channel}, address = ${d.address},
        content = ${JSON.stringify(prepared.content)}::jsonb, deferred_until = NULL, updated_at = now(),
        counted_at = CASE WHEN kind = 'marketing' THEN ${now.toISOString()}::timestamptz ELSE NULL END,
        gate = '{"action":"send"}'::jsonb
      WHERE workspace_id = ${workspaceId} AND id = ${row.id} AND state = 'deferred'`);
    await event(tx, workspaceId, row.id, "queued", {});
    return {
      ...row,
      state: "queued" as const,
      channel: d.channel,
      address: d.address,
      content: prepared.content,
    };
  });
}

/** A provider's final word about an address: the number is invalid, the mailbox does not exist. */
async function suppressOnFailure(db: Db, workspaceId: string, row: Row, kind: string, reason: string) {
  if (!row.channel || !row.address) return;
  if (reason.startsWith("invalid_number:")) {
    await addSuppression(db, workspaceId, {
      channel: row.channel,
      address: row.address,
      reason: "invalid_number",
      details: { deliveryId: row.id, provider: kind, reason },
    });
  } else if (kind === "smtp" && /^55[0-3]\b/.test(reason)) {
    await addSuppression(db, workspaceId, {
      channel: "email",
      address: row.address,
      reason: "hard_bounce",
      details: { deliveryId: row.id, provider: kind, reason },
    });
  }
}

/** One line of a delivery's history. */
export async function event(
  tx: Db,
  workspaceId: string,
  deliveryId: string,
  state: DeliveryState,
  details: Record<string, unknown>,
): Promise<void> {
  await insertEvents(tx, workspaceId, [{ deliveryId, state, details }]);
}
