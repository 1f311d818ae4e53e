import { sql } from "drizzle-orm";
import {
  type ConsentEntry,
  type ConsentOverview,
  ConsentProof as ConsentProofSchema,
} from "../contracts/consent.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { eachValue, jsonParam } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { holdLive } from "../profiles/merge.ts";
// registers the merge hook in every process that uses consent
import "./consent-merge.ts";
import {
  customerAddresses,
  customerCountry,
  customerPhones,
  customerTimezone,
  reachableChannels,
} from "./customer-facts.ts";
import { type ConsentStateRow, effectiveConsent, type TopicRule } from "./effective.ts";
import { baseLanguage, loadCustomer, preferencesOf } from "./preferences.ts";
import { getMessagingSettings } from "./settings.ts";
import { presentSuppression, suppressionsFor } from "./suppressions.ts";
import {
  CHANNELS,
  type Channel,
  CONSENT_SOURCES,
  type ConsentProof,
  type ConsentSource,
  consentLedger as ledgerTable,
} from "./tables.ts";
import { getTopicByKey, listTopics } from "./topics.ts";

export type ConsentChange = {
  channel: Channel;
  topicId: string | null;
  status: "subscribed" | "unsubscribed";
};

type CellState = { subscribed: boolean; source: "topic" | "channel" | "default" };

function validateChanges(changes: readonly ConsentChange[], source: string): void {
  if (!CONSENT_SOURCES.some((s) => s === source)) {
    throw new AppError(
      "consent.invalid_source",
      `"${source}" is not a consent source; use ${CONSENT_SOURCES.join(", ")}.`,
    );
  }
  for (const c of changes) {
    if (!CHANNELS.some((k) => k === c.channel)) {
      throw new AppError(
        "consent.invalid_channel",
        `"${c.channel}" is not a channel; channels are ${CHANNELS.join(", ")}.`,
      );
    }
    if (c.status !== "subscribed" && c.status !== "unsubscribed") {
      throw new AppError(
        "consent.invalid_status",
        `A consent status is "subscribed" or "unsubscribed", not "${c.status}".`,
      );
    }
    if (c.topicId !== null && !isUuid(c.topicId)) {
      throw new AppError("consent.topic_not_found", `"${c.topicId}" is not a topic id (a UUID).`, {
        topicId: c.topicId,
      });
    }
  }
}

/**
 * Appends consent changes to the ledger and brings `consent_states` up to date, in the
 * caller's transaction. A merged customer id leads to its survivor (held `FOR KEY SHARE`, so
 * a merge waits for us). A state is replaced only by a newer entry, so concurrent writers
 * leave the latest one whatever order they commit in.
 */
export async function recordConsentInTransaction(
  tx: Db,
  workspaceId: string,
  customerId: string,
  changes: readonly ConsentChange[],
  source: ConsentSource,
  proof: ConsentProof,
): Promise<ConsentEntry[]> {
  if (!isUuid(customerId)) {
    throw new AppError("consent.customer_not_found", `"${customerId}" is not a customer id (a UUID).`, {
      customerId,
    });
  }
  validateChanges(changes, source);
  const cleanProof = ConsentProofSchema.safeParse(proof);
  if (!cleanProof.success) {
    throw new AppError(
      "consent.invalid_proof",
      `Invalid proof: ${cleanProof.error.issues[0]?.message ?? "not valid"}.`,
    );
  }
  if (changes.length === 0) return [];
  const topicIds = [...new Set(changes.flatMap((c) => (c.topicId ? [c.topicId] : [])))];
  const keyOf = new Map<string, string>();
  if (topicIds.length > 0) {
    const found = await rows<{ id: string; key: string }>(
      tx,
      sql`SELECT t.id::text AS id, t.key FROM ${eachValue(topicIds)}
          CROSS JOIN LATERAL (SELECT id, key FROM topics WHERE workspace_id = ${workspaceId} AND id = x.v::uuid) AS t`,
    );
    for (const t of found) keyOf.set(t.id, t.key);
    const missing = topicIds.find((id) => !keyOf.has(id));
    if (missing) {
      throw new AppError("consent.topic_not_found", `No topic with id ${missing} in this workspace.`, {
        topicId: missing,
      });
    }
  }
  const live = (await holdLive(tx, workspaceId, [customerId])).get(customerId);
  if (!live) {
    throw new AppError("consent.customer_not_found", "No customer with that id in this workspace.", {
      customerId,
    });
  }
  const at = new Date();
  const entries = changes.map((c) => ({
    workspaceId,
    id: uuidv7(),
    customerId: live,
    channel: c.channel,
    topicId: c.topicId,
    status: c.status,
    source,
    proof: cleanProof.data,
    createdAt: at,
  }));
  await tx.insert(ledgerTable).values(entries);
  // the last change of a channel × topic in this call is the one that stands
  const latest = new Map(entries.map((e) => [`${e.channel}|${e.topicId ?? "*"}`, e]));
  const states = [...latest.values()].map((e) => ({
    channel: e.channel,
    topic: e.topicId ?? "*",
    status: e.status,
    ledger_id: e.id,
    updated_at: at.toISOString(),
  }));
  await tx.execute(sql`INSERT INTO consent_states (workspace_id, customer_id, channel, topic, status, ledger_id, updated_at)
    SELECT ${workspaceId}, ${live}, s.channel, s.topic, s.status, s.ledger_id, s.updated_at
    FROM jsonb_to_recordset(${jsonParam(states)}) AS s(channel text, topic text, status text, ledger_id uuid, updated_at timestamptz)
    ON CONFLICT (workspace_id, customer_id, channel, topic) DO UPDATE
      SET status = excluded.status, ledger_id = excluded.ledger_id, updated_at = excluded.updated_at
      WHERE (consent_states.updated_at, consent_states.ledger_id) < (excluded.updated_at, excluded.ledger_id)`);
  return entries.map((e) => ({
    id: e.id,
    customerId: e.customerId,
    channel: e.channel,
    topicId: e.topicId,
    topic: e.topicId ? (keyOf.get(e.topicId) ?? null) : null,
    status: e.status,
    source: e.source,
    proof: e.proof,
    createdAt: at.toISOString(),
  }));
}

/** `recordConsentInTransaction` in a transaction of its own (retried on deadlocks and races). */
export async function recordConsent(
  db: Db,
  workspaceId: string,
  customerId: string,
  changes: readonly ConsentChange[],
  source: ConsentSource,
  proof: ConsentProof,
): Promise<ConsentEntry[]> {
  return transactionWithRetry(db, (tx) =>
    recordConsentInTransaction(tx, workspaceId, customerId, changes, source, proof),
  );
}

/** Records changes that name topics by key (null: the whole channel), as the REST API takes them. */
export async function changeConsent(
  db: Db,
  workspaceId: string,
  customerId: string,
  changes: ReadonlyArray<{ channel: Channel; topic: string | null; status: "subscribed" | "unsubscribed" }>,
  source: ConsentSource,
  proof: ConsentProof,
): Promise<ConsentEntry[]> {
  const ids = new Map<string, string>();
  for (const key of new Set(changes.flatMap((c) => (c.topic ? [c.topic] : [])))) {
    ids.set(key, (await getTopicByKey(db, workspaceId, key)).id);
  }
  return recordConsent(
    db,
    workspaceId,
    customerId,
    changes.map((c) => ({
      channel: c.channel,
      topicId: c.topic ? (ids.get(c.topic) ?? null) : null,
      status: c.status,
    })),
    source,
    proof,
  );
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && typeof v[0] === "string" && typeof v[1] === "string" && isUuid(v[1])) {
      if (Number.isFinite(Date.parse(v[0]))) return [v[0], v[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError(
    "request.invalid_cursor",
    "The cursor is not one this API returned; start again without it.",
  );
}

/** A customer's consent history, newest first (merged profiles' entries included), with a cursor. */
export async function consentLedger(
  db: Db,
  workspaceId: string,
  customerId: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<{ data: ConsentEntry[]; nextCursor: string | null }> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const found = await rows<Omit<ConsentEntry, "createdAt"> & { createdAt: string; cursorAt: string }>(
    db,
    sql`SELECT l.id::text AS id, l.customer_id::text AS "customerId", l.channel, l.topic_id::text AS "topicId",
          t.key AS topic, l.status, l.source, l.proof,
          to_json(l.created_at)#>>'{}' AS "createdAt", to_json(l.created_at)#>>'{}' AS "cursorAt"
        FROM consent_ledger l
        LEFT JOIN topics t ON t.workspace_id = l.workspace_id AND t.id = l.topic_id
        WHERE l.workspace_id = ${workspaceId} AND l.customer_id = ${customer.id}
          ${after ? sql`AND (l.created_at, l.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
        ORDER BY l.created_at DESC, l.id DESC LIMIT ${q.limit + 1}`,
  );
  const page = found.slice(0, q.limit);
  const last = page.at(-1);
  return {
    data: page.map(({ cursorAt: _c, ...e }) => ({ ...e, createdAt: new Date(e.createdAt).toISOString() })),
    nextCursor: found.length > q.limit && last ? encodeCursor(last.cursorAt, last.id) : null,
  };
}

/** A live customer's stored states, as `effectiveConsent` reads them. */
export async function consentStatesOf(
  db: Db,
  workspaceId: string,
  liveId: string,
): Promise<ConsentStateRow[]> {
  const found = await rows<{
    channel: Channel;
    topic: string;
    status: "subscribed" | "unsubscribed";
    at: number;
  }>(
    db,
    sql`SELECT channel, topic, status, (extract(epoch FROM updated_at) * 1000)::float8 AS at
        FROM consent_states WHERE workspace_id = ${workspaceId} AND customer_id = ${liveId}`,
  );
  return found.map((r) => ({ ...r, at: Number(r.at) }));
}

/**
 * Every topic × every channel through `effectiveConsent`, the one rule the Gate also uses:
 * the newer of the topic's entry and the channel-wide one, else the default.
 */
export function consentMatrix(
  topics: readonly TopicRule[],
  states: readonly ConsentStateRow[],
  optInCountry: boolean,
): Map<string, Record<Channel, CellState>> {
  const out = new Map<string, Record<Channel, CellState>>();
  for (const topic of topics) {
    const cells: Partial<Record<Channel, CellState>> = {};
    for (const channel of CHANNELS) cells[channel] = effectiveConsent(states, topic, channel, optInCountry);
    out.set(topic.id, cells as Record<Channel, CellState>);
  }
  return out;
}

/**
 * What a customer receives: every non-archived topic × every channel (subscribed, and why),
 * their preferences, the time zone and language messages use, the channels they can be
 * reached on, and the suppressions of their addresses.
 */
export async function consentOverview(
  db: Db,
  workspaceId: string,
  customerId: string,
): Promise<ConsentOverview> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  const [settings, topics, states, preferences] = await Promise.all([
    getMessagingSettings(db, workspaceId),
    listTopics(db, workspaceId),
    consentStatesOf(db, workspaceId, customer.id),
    preferencesOf(db, workspaceId, customer.id),
  ]);
  const phones = customerPhones(customer.identities);
  const country = customerCountry(customer.traits, phones);
  const optInCountry = country !== undefined && settings.optInCountries.includes(country);
  const matrix = consentMatrix(topics, states, optInCountry);
  const suppressed = await suppressionsFor(db, workspaceId, customerAddresses(customer.identities));
  const locale = typeof customer.traits.locale === "string" ? customer.traits.locale : undefined;
  return {
    customerId: customer.id,
    country: country ?? null,
    optInCountry,
    timezone: customerTimezone({
      preferred: preferences.timezone,
      traits: customer.traits,
      phones,
      locale,
      defaultTimezone: settings.defaultTimezone,
    }),
    language: preferences.language ?? (locale ? baseLanguage(locale) : undefined) ?? settings.defaultLanguage,
    reachableChannels: reachableChannels(customer.identities, CHANNELS),
    topics: topics.map((t) => ({
      id: t.id,
      key: t.key,
      kind: t.kind,
      names: t.names,
      descriptions: t.descriptions,
      visible: t.visible,
      channels: matrix.get(t.id) ?? {},
    })),
    preferences,
    suppressions: suppressed.map(presentSuppression),
  };
}
