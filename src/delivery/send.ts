import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { GateDecision } from "../consent/gate.ts";
import { type GateContext, loadGateContexts } from "../consent/gate-input.ts";
import { CHANNELS, type Channel } from "../consent/tables.ts";
import { MessageContent } from "../contracts/messages.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { eachValue } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { type EnqueueSpec, enqueueMany } from "../jobs/index.ts";
import { type Audience, getAudiences } from "../profiles/customers.ts";
import { deliverTask } from "./engine.ts";
import { decideAllLocked } from "./gate-lock.ts";
import { insertEvents } from "./history.ts";
import { type Prepared, prepareContent, type StoredRequest } from "./prepare.ts";
import { ReplyVia } from "./providers/types.ts";
import type { DeliveryState, GateRecord } from "./tables.ts";
import { emitDeliveryEvents } from "./webhook-events.ts";

/** A request to reach one customer: the one way any part of Rapport sends a message. */
export const SendRequest = z
  .object({
    customerId: z.uuid(),
    /** The topic's key (`promotions`, `account`…). */
    topic: z.string().min(1).max(64),
    /** Forces the channel; otherwise the customer's preference, then the workspace's order. */
    channel: z.enum(CHANNELS).optional(),
    /** With `channel`: the customer's one address to use (a reply goes where they wrote from). */
    address: z.string().min(1).max(512).optional(),
    /** Email only: the thread this message answers (`<message-id>`s), so mail clients keep it together. */
    thread: z
      .object({
        inReplyTo: z.string().regex(/^<[^<>\s]+>$/, "must be a <message-id>"),
        references: z.array(z.string().regex(/^<[^<>\s]+>$/, "must be a <message-id>")).max(50),
      })
      .optional(),
    /**
     * Email only: where the customer's answer should go (a conversation's `reply+` address).
     * Wins over the Reply-To the provider is configured with.
     */
    replyTo: z.email("must be an email address").max(320).optional(),
    /** Email only (with `channel: "email"`): people copied on the message, as a reply to all keeps them. */
    cc: z.array(z.email("must be an email address").max(320)).min(1).max(20).optional(),
    /**
     * A reply on a conversation's own inbox (a Facebook page, an X account, the chat widget):
     * the inbox's provider sends it, and `target` names what it answers (a comment, a tweet).
     */
    via: ReplyVia.optional(),
    /** Email only: files of the attachment store to attach. */
    attachments: z
      .array(
        z.object({
          key: z.string().min(1).max(200),
          name: z.string().min(1).max(255),
          contentType: z.string().min(1).max(255),
          size: z.number().int().min(0),
        }),
      )
      .max(10)
      .optional(),
    /** SMS and WhatsApp only: public URLs of media the provider fetches and sends (MMS). */
    mediaUrls: z
      .array(z.url({ protocol: /^https?$/ }))
      .max(10)
      .optional(),
    /** A template key; or give `content`. */
    template: z.string().min(1).max(64).optional(),
    content: MessageContent.optional(),
    /** Values for the template (`{{ data.order_id }}`). */
    data: z.record(z.string(), z.unknown()).default({}),
    /** The same key never sends twice; a different request under a used key is refused. */
    idempotencyKey: z.string().min(1).max(255),
    /** Who asks: "api", "agent", "journey", "status"…, and their reference. */
    source: z.string().min(1).max(64),
    sourceRef: z.string().max(255).optional(),
  })
  .refine((r) => (r.template === undefined) !== (r.content === undefined), {
    message: "give either a template or content, not both",
  })
  .refine((r) => r.cc === undefined || r.channel === "email", {
    message: 'cc is for email: give channel "email" with it',
    path: ["cc"],
  });
export type SendRequest = z.input<typeof SendRequest>;

/** What became of a send request: the Gate's decision and the delivery row that records it. */
export type SendOutcome = {
  deliveryId: string;
  decision: "send" | "defer" | "skip";
  state: DeliveryState;
  reason?: string;
  channel: Channel | null;
  deferredUntil?: string;
  /** Why the message could not be rendered (the delivery is recorded as failed). */
  error?: string;
  /** True when the idempotency key had already been used for this same request. */
  replayed: boolean;
};

export type SendOptions = {
  /** Where links in the message point (preference center, unsubscribe, status callbacks). */
  publicUrl: string;
  /** The clock, injectable for tests. */
  now?: Date;
};

/** Deliveries sent by one job of the engine. */
const DELIVERIES_PER_JOB = 500;
const RACE = "delivery.idempotency_race";

/**
 * Passes one request through the Gate and writes its delivery with the job that sends it.
 * A replayed idempotency key answers the first outcome; the same key with another request is
 * refused (422); a template that fails to render is recorded as a failed delivery and
 * answered with `delivery.template_render_failed`.
 */
export async function sendMessage(
  db: Db,
  workspaceId: string,
  request: SendRequest,
  opts: SendOptions,
): Promise<SendOutcome> {
  const [result] = await sendMany(db, workspaceId, [request], opts);
  if (!result) throw new Error("sendMany answered nothing");
  if ("error" in result && result.error instanceof AppError) throw result.error;
  const outcome = result as SendOutcome;
  if (outcome.error && !outcome.replayed) {
    throw new AppError("delivery.template_render_failed", outcome.error, { deliveryId: outcome.deliveryId });
  }
  return outcome;
}

type Parsed = z.output<typeof SendRequest> & { requestHash: string };

/**
 * Passes many requests (a broadcast, a journey step) through the Gate and into the delivery
 * ledger together, in a handful of statements: customers, consent and caps are read for all
 * at once, the deliveries and their jobs written in one transaction (one job per five hundred
 * deliveries). Each request gets its own outcome, or the error that refused it.
 */
export async function sendMany(
  db: Db,
  workspaceId: string,
  raws: readonly SendRequest[],
  opts: SendOptions,
): Promise<Array<SendOutcome | { error: AppError }>> {
  const out: Array<SendOutcome | { error: AppError } | undefined> = new Array(raws.length);
  const parsed: Array<Parsed | undefined> = raws.map((raw, i) => {
    const p = SendRequest.safeParse(raw);
    if (p.success) {
      const { idempotencyKey: _key, ...rest } = p.data;
      return { ...p.data, requestHash: createHash("sha256").update(stableJson(rest)).digest("hex") };
    }
    const issue = p.error.issues[0];
    out[i] = {
      error: new AppError(
        "delivery.invalid_request",
        `${issue?.path.join(".") || "request"}: ${issue?.message ?? "is invalid"}`,
      ),
    };
    return undefined;
  });
  // a pass writes the first request of each key; a key repeated in the batch, or taken by a
  // concurrent request meanwhile, is answered as a replay by the next pass
  for (let pass = 0; parsed.some((p, i) => p && out[i] === undefined); pass++) {
    try {
      await sendPending(db, workspaceId, parsed, out, opts);
    } catch (err) {
      if (!(err instanceof AppError && err.code === RACE) || pass >= 4) throw err;
    }
  }
  return out.map(
    (o) => o ?? { error: new AppError("delivery.invalid_request", "the request was not processed") },
  );
}

async function sendPending(
  db: Db,
  workspaceId: string,
  parsed: ReadonlyArray<Parsed | undefined>,
  out: Array<SendOutcome | { error: AppError } | undefined>,
  opts: SendOptions,
): Promise<void> {
  const pending = () => parsed.flatMap((p, i) => (p && out[i] === undefined ? [i] : []));
  await answerReplays(db, workspaceId, parsed, out, pending());
  const firstOfKey = () => {
    const keys = new Set<string>();
    return pending().filter((i) => {
      const key = parsed[i]?.idempotencyKey ?? "";
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    });
  };
  let todo = firstOfKey();
  if (todo.length === 0) return;

  const audiences = await getAudiences(
    db,
    workspaceId,
    todo.map((i) => parsed[i]?.customerId ?? ""),
  );
  for (const i of todo) {
    if (!audiences.has(parsed[i]?.customerId ?? "")) {
      out[i] = {
        error: new AppError("delivery.customer_not_found", "No customer with that id in this workspace.", {
          customerId: parsed[i]?.customerId,
        }),
      };
    }
  }
  todo = firstOfKey();
  // one Gate context per customer and topic
  const contexts = new Map<string, GateContext>();
  const byTopic = new Map<string, Audience[]>();
  for (const i of todo) {
    const p = parsed[i];
    const a = p ? audiences.get(p.customerId) : undefined;
    if (p && a) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), a]);
  }
  for (const [topic, list] of byTopic) {
    try {
      for (const [id, ctx] of await loadGateContexts(db, workspaceId, list, topic))
        contexts.set(`${topic}|${id}`, ctx);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      for (const i of todo) if (parsed[i]?.topic === topic) out[i] = { error: err };
    }
  }
  todo = firstOfKey();
  if (todo.length === 0) return;

  const now = opts.now ?? new Date();
  const written = await transactionWithRetry(db, async (tx) => {
    const items = todo.flatMap((i) => {
      const p = parsed[i];
      const audience = p ? audiences.get(p.customerId) : undefined;
      const gate = p && audience ? contexts.get(`${p.topic}|${audience.id}`) : undefined;
      return p && audience && gate ? [{ i, p, audience, gate }] : [];
    });
    const decisions = await decideAllLocked(
      tx,
      workspaceId,
      items.map((it) => ({
        customerId: it.audience.id,
        gate: it.gate,
        channel: it.p.channel,
        address: it.p.address,
      })),
      now,
    );
    const rowsToWrite: Array<Record<string, unknown>> = [];
    const outcomes: Array<{ i: number; outcome: SendOutcome; topic: string; customerId: string }> = [];
    for (const [k, it] of items.entries()) {
      const decision = decisions[k] as GateDecision;
      const id = uuidv7();
      const { idempotencyKey, requestHash, source, sourceRef, customerId: _c, ...rest } = it.p;
      const stored: StoredRequest & Record<string, unknown> = { ...rest, publicUrl: opts.publicUrl };
      let prepared: Prepared | null = null;
      let failed: string | null = null;
      if (decision.action !== "skip") {
        try {
          prepared = await prepareContent(tx, workspaceId, {
            deliveryId: id,
            customer: it.audience,
            gate: it.gate,
            channel: decision.channel,
            request: stored,
          });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          failed = err.message;
        }
      }
      const state: DeliveryState = failed
        ? "failed"
        : decision.action === "skip"
          ? "skipped"
          : decision.action === "defer"
            ? "deferred"
            : "queued";
      const gate: GateRecord =
        decision.action === "skip"
          ? { action: "skip", reason: decision.reason, details: { channels: decision.channels } }
          : decision.action === "defer"
            ? { action: "defer", reason: decision.reason }
            : { action: "send" };
      rowsToWrite.push({
        workspace_id: workspaceId,
        id,
        customer_id: it.audience.id,
        channel: decision.action === "skip" ? null : decision.channel,
        topic_id: it.gate.topic.id,
        kind: it.gate.topic.kind,
        template_id: prepared?.templateId ?? null,
        language: prepared?.language ?? null,
        address: decision.action === "skip" ? null : decision.address,
        content: prepared?.content ?? null,
        request: stored,
        idempotency_key: idempotencyKey,
        request_hash: requestHash,
        state,
        gate,
        deferred_until: decision.action === "defer" ? decision.until.toISOString() : null,
        provider: null,
        provider_message_id: null,
        attempts: 0,
        error: failed ? { reason: failed, retryable: false } : null,
        counted_at: state === "queued" && it.gate.topic.kind === "marketing" ? now.toISOString() : null,
        source,
        source_ref: sourceRef ?? null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
        sent_at: null,
      });
      outcomes.push({
        i: it.i,
        topic: it.gate.topic.key,
        customerId: it.audience.id,
        outcome: {
          deliveryId: id,
          decision: decision.action,
          state,
          channel: decision.action === "skip" ? null : decision.channel,
          ...(gate.reason ? { reason: gate.reason } : {}),
          ...(decision.action === "defer" ? { deferredUntil: decision.until.toISOString() } : {}),
          ...(failed ? { error: failed } : {}),
          replayed: false,
        },
      });
    }
    // one JSON parameter for the whole batch: cheaper to build and bind than thousands of parameters
    const inserted = await rows<{ id: string }>(
      tx,
      sql`INSERT INTO deliveries SELECT * FROM jsonb_populate_recordset(NULL::deliveries, ${JSON.stringify(rowsToWrite)}::jsonb)
          ON CONFLICT DO NOTHING RETURNING id`,
    );
    // a key taken by a concurrent request: start again, and answer that one as a replay
    if (inserted.length !== rowsToWrite.length) throw new AppError(RACE, "lost an idempotency race");
    await insertEvents(
      tx,
      workspaceId,
      outcomes.map((o) => ({
        deliveryId: o.outcome.deliveryId,
        state: o.outcome.state,
        details: o.outcome.error
          ? { reason: o.outcome.error }
          : o.outcome.reason
            ? { reason: o.outcome.reason }
            : {},
      })),
      now,
    );
    const jobs: EnqueueSpec[] = [];
    const queued = outcomes.filter((o) => o.outcome.state === "queued").map((o) => o.outcome.deliveryId);
    for (let k = 0; k < queued.length; k += DELIVERIES_PER_JOB) {
      const ids = queued.slice(k, k + DELIVERIES_PER_JOB);
      jobs.push({
        task: deliverTask,
        payload: { workspaceId, deliveryIds: ids },
        workspaceId,
        dedupeKey: `delivery:${ids[0]}:0`,
      });
    }
    for (const o of outcomes) {
      if (o.outcome.state !== "deferred" || !o.outcome.deferredUntil) continue;
      jobs.push({
        task: deliverTask,
        payload: { workspaceId, deliveryIds: [o.outcome.deliveryId] },
        workspaceId,
        runAt: new Date(o.outcome.deferredUntil),
        dedupeKey: `delivery:${o.outcome.deliveryId}:0`,
      });
    }
    if (jobs.length > 0) await enqueueMany(tx, jobs);
    await emitDeliveryEvents(
      tx,
      workspaceId,
      outcomes.map((o) => ({
        state: o.outcome.state,
        data: {
          deliveryId: o.outcome.deliveryId,
          customerId: o.customerId,
          channel: o.outcome.channel,
          topic: o.topic,
          ...(o.outcome.reason ? { reason: o.outcome.reason } : {}),
          ...(o.outcome.error ? { error: o.outcome.error } : {}),
        },
      })),
    );
    return outcomes;
  });
  for (const w of written) out[w.i] = w.outcome;
}

/** Answers requests whose key was used before: the first outcome, or 422 if the request differs. */
async function answerReplays(
  db: Db,
  workspaceId: string,
  parsed: ReadonlyArray<Parsed | undefined>,
  out: Array<SendOutcome | { error: AppError } | undefined>,
  todo: number[],
): Promise<void> {
  if (todo.length === 0) return;
  const keys = todo.map((i) => parsed[i]?.idempotencyKey ?? "");
  const found = await rows<{
    key: string;
    id: string;
    requestHash: string;
    state: DeliveryState;
    channel: Channel | null;
    gate: GateRecord;
    deferredUntil: string | null;
    error: { reason: string } | null;
  }>(
    db,
    sql`SELECT d.idempotency_key AS key, d.id::text AS id, d.request_hash AS "requestHash", d.state, d.channel, d.gate,
          d.deferred_until::text AS "deferredUntil", d.error
        FROM ${eachValue(new Set(keys))} CROSS JOIN LATERAL (SELECT * FROM deliveries
          WHERE workspace_id = ${workspaceId} AND idempotency_key = x.v) AS d`,
  );
  const byKey = new Map(found.map((f) => [f.key, f]));
  const seen = new Map<string, number>();
  for (const i of todo) {
    const p = parsed[i];
    if (!p) continue;
    const row = byKey.get(p.idempotencyKey);
    const first = seen.get(p.idempotencyKey);
    seen.set(p.idempotencyKey, first ?? i);
    if (!row) {
      // the same key twice in one batch: the second waits for the first's outcome (next pass)
      if (first !== undefined && first !== i && parsed[first]?.requestHash !== p.requestHash) {
        out[i] = { error: reused(undefined) };
      }
      continue;
    }
    if (row.requestHash !== p.requestHash) {
      out[i] = { error: reused(row.id) };
      continue;
    }
    out[i] = {
      deliveryId: row.id,
      decision: row.gate.action,
      state: row.state,
      channel: row.channel,
      ...(row.gate.reason ? { reason: row.gate.reason } : {}),
      ...(row.deferredUntil ? { deferredUntil: new Date(row.deferredUntil).toISOString() } : {}),
      ...(row.error && row.state === "failed" ? { error: row.error.reason } : {}),
      replayed: true,
    };
  }
}

function reused(deliveryId: string | undefined): AppError {
  return new AppError(
    "delivery.idempotency_key_reused",
    "This Idempotency-Key was already used for a different request; use a new key for a new message.",
    deliveryId ? { deliveryId } : undefined,
  );
}

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
