import { and, eq, isNull } from "drizzle-orm";
import type { Logger } from "pino";
import { z } from "zod";
import type { Db } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import { recordAudit } from "../../platform/audit.ts";
import { webhookEndpoints, webhookMessages } from "../tables.ts";
import { type DeliverJob, enqueueAttempts } from "./job.ts";
import { type PostResult, postWebhook } from "./post.ts";
import {
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  parseRetryAfter,
  RetryPolicy,
  retryDelayMs,
} from "./retry-policy.ts";
import { webhookHeaders } from "./sign.ts";
import { checkDestination, type Resolve } from "./ssrf.ts";

/** How deliveries behave; every field is injectable so tests run the real path with short waits. */
export const DeliverOptions = z.object({
  retry: RetryPolicy,
  /** The whole exchange with the receiver, connect to last byte kept. */
  timeoutMs: z.number().int().min(1).max(120_000),
  resolve: z.custom<Resolve>((v) => typeof v === "function").optional(),
  random: z.custom<() => number>((v) => typeof v === "function").optional(),
});
export type DeliverOptions = z.infer<typeof DeliverOptions>;

export const DEFAULT_DELIVER_OPTIONS: DeliverOptions = { retry: DEFAULT_RETRY_POLICY, timeoutMs: 15_000 };

/** What one attempt decides for its message. */
export type AttemptOutcome = {
  state: "succeeded" | "failed" | "pending";
  status: number | null;
  error: string | null;
  /** With state "pending": when the next attempt runs. */
  retryInMs?: number;
  /** Set when the receiver asked never to be called again (410 Gone). */
  disableReason?: string;
};

function describe(result: PostResult): string {
  if (result.kind === "error") return result.error;
  const { status, location, body } = result;
  let text = `HTTP ${status}`;
  if (status >= 300 && status < 400) {
    text += `: redirect${location ? ` to ${location}` : ""} not followed (deliveries never follow redirects; set the final URL)`;
  }
  const snippet = body.trim().slice(0, 200);
  return snippet ? `${text}: ${snippet}` : text;
}

/**
 * Decides what an attempt's result means: 2xx succeeded; 410 Gone stops and disables the
 * endpoint; 429/503 with Retry-After retry then (capped); anything else retries on the
 * policy's schedule until the attempts run out.
 */
export function decideOutcome(
  result: PostResult,
  attempt: number,
  options: Pick<DeliverOptions, "retry" | "random">,
  now: number = Date.now(),
): AttemptOutcome {
  const status = result.kind === "response" ? result.status : null;
  if (status !== null && status >= 200 && status < 300) return { state: "succeeded", status, error: null };
  if (status === 410) {
    return {
      state: "failed",
      status,
      error: `${describe(result)} (the receiver asked to stop: the endpoint is disabled)`,
      disableReason: "the receiver answered 410 Gone",
    };
  }
  const error = describe(result);
  if (attempt >= maxAttempts(options.retry)) {
    return { state: "failed", status, error: `${error} (gave up after ${attempt} attempts)` };
  }
  if (result.kind === "response" && (status === 429 || status === 503)) {
    const wait = parseRetryAfter(result.retryAfter, now);
    if (wait !== undefined) {
      return { state: "pending", status, error, retryInMs: Math.min(wait, options.retry.maxRetryAfterMs) };
    }
  }
  const retryInMs = retryDelayMs(options.retry, attempt, options.random) ?? 0;
  return { state: "pending", status, error, retryInMs };
}

/** What the job knows that delivery needs: its queue (retries stay on it), signal and logger. */
export type AttemptContext = { queue: string; signal?: AbortSignal; logger?: Logger };

async function load(db: Db, job: DeliverJob) {
  const [found] = await db
    .select({ message: webhookMessages, endpoint: webhookEndpoints })
    .from(webhookMessages)
    .leftJoin(
      webhookEndpoints,
      and(
        eq(webhookEndpoints.workspaceId, webhookMessages.workspaceId),
        eq(webhookEndpoints.id, webhookMessages.endpointId),
      ),
    )
    .where(and(eq(webhookMessages.workspaceId, job.workspaceId), eq(webhookMessages.id, job.messageId)));
  return found;
}

// every write is fenced by the attempt count, so a second run of the same attempt changes nothing
function fence(job: DeliverJob) {
  return and(
    eq(webhookMessages.workspaceId, job.workspaceId),
    eq(webhookMessages.id, job.messageId),
    eq(webhookMessages.state, "pending"),
    eq(webhookMessages.attempts, job.attempt - 1),
  );
}

async function record(
  db: Db,
  job: DeliverJob,
  endpointId: string,
  outcome: AttemptOutcome,
  ctx: AttemptContext,
) {
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(webhookMessages)
      .set({
        state: outcome.state,
        attempts: job.attempt,
        lastStatus: outcome.status,
        lastError: outcome.error,
        updatedAt: new Date(),
      })
      .where(fence(job))
      .returning({ id: webhookMessages.id });
    if (updated.length === 0) return false;
    if (outcome.state === "pending") {
      await enqueueAttempts(tx, [{ ...job, attempt: job.attempt + 1 }], {
        queue: ctx.queue,
        delayMs: outcome.retryInMs,
      });
    }
    if (outcome.disableReason) {
      const disabled = await tx
        .update(webhookEndpoints)
        .set({ disabledAt: new Date(), disabledReason: outcome.disableReason, updatedAt: new Date() })
        .where(
          and(
            eq(webhookEndpoints.workspaceId, job.workspaceId),
            eq(webhookEndpoints.id, endpointId),
            isNull(webhookEndpoints.disabledAt),
          ),
        )
        .returning({ id: webhookEndpoints.id });
      if (disabled.length > 0) {
        await recordAudit(tx, {
          workspaceId: job.workspaceId,
          actor: { kind: "system" },
          action: "webhook_endpoint.disabled",
          target: { kind: "webhook_endpoint", id: endpointId },
          details: { reason: outcome.disableReason, messageId: job.messageId },
        });
      }
    }
    return true;
  });
}

/**
 * Makes attempt `job.attempt` of one message: checks the endpoint's address again (DNS may
 * have changed since it was saved), POSTs the signed payload to the checked address, records
 * the result on the message and enqueues the next attempt in the same transaction. Returns the
 * outcome, or undefined when there was nothing to do (the attempt was already made, the
 * message was deleted).
 */
export async function deliverAttempt(
  db: Db,
  job: DeliverJob,
  ctx: AttemptContext,
  options: DeliverOptions = DEFAULT_DELIVER_OPTIONS,
): Promise<AttemptOutcome | undefined> {
  const found = await load(db, job);
  if (found?.message.state !== "pending" || found.message.attempts !== job.attempt - 1) return undefined;
  const { message, endpoint } = found;
  if (!endpoint || endpoint.disabledAt) {
    const why = endpoint
      ? `the endpoint is disabled (${endpoint.disabledReason ?? "by an admin"})`
      : "the endpoint was deleted";
    // not an attempt: nothing was sent
    await db
      .update(webhookMessages)
      .set({ state: "failed", lastError: `not sent: ${why}`, updatedAt: new Date() })
      .where(fence(job));
    return { state: "failed", status: null, error: `not sent: ${why}` };
  }
  let result: PostResult;
  try {
    const destination = await checkDestination(endpoint.url, {
      allowPrivate: endpoint.allowPrivate,
      resolve: options.resolve,
    });
    // the payload is rebuilt in a fixed key order: jsonb does not keep the order it was given
    const body = JSON.stringify({
      type: message.payload.type,
      timestamp: message.payload.timestamp,
      data: message.payload.data,
    });
    result = await postWebhook(destination, {
      headers: webhookHeaders(endpoint.secret, message.id, body),
      body,
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
    });
  } catch (err) {
    if (!isAppError(err)) throw err;
    // refused at send time (DNS now points inside) or unresolvable: a failed attempt, retried
    result = { kind: "error", error: `not sent: ${err.message}` };
  }
  if (ctx.signal?.aborted) {
    // the worker handed this job back before aborting it: the attempt runs again, uncounted
    throw new Error("the delivery was interrupted; the job was handed back");
  }
  const outcome = decideOutcome(result, job.attempt, options);
  const recorded = await record(db, job, endpoint.id, outcome, ctx);
  ctx.logger?.[outcome.state === "pending" ? "warn" : "info"](
    { messageId: message.id, attempt: job.attempt, state: outcome.state, status: outcome.status, recorded },
    outcome.error ? `webhook attempt failed: ${outcome.error}` : "webhook delivered",
  );
  return recorded ? outcome : undefined;
}
