import { sql } from "drizzle-orm";
import { type Db, rows } from "../db/client.ts";
import { eachValue } from "../db/sql-lists.ts";
import { AppError } from "../errors.ts";
import type { Audience } from "../profiles/customers.ts";
import { customerAddresses, customerCountry, customerPhones, customerTimezone } from "./customer-facts.ts";
import type { ConsentStateRow, TopicRule } from "./effective.ts";
import type { GateInput } from "./gate.ts";
import { getMessagingSettings, type MessagingSettings } from "./settings.ts";
import { addressHash } from "./suppressions.ts";
import type { Channel, QuietHours } from "./tables.ts";

/** A customer as the Gate needs them: traits and every identity. */
export type { Audience } from "../profiles/customers.ts";

export type GateTopic = TopicRule & { key: string; names: Record<string, string> };

/** What the delivery engine gets back: the Gate's input (minus caps usage) and what it shows. */
export type GateContext = {
  topic: GateTopic;
  settings: MessagingSettings;
  language: string;
  input: Omit<GateInput, "now" | "recent" | "requestedChannel">;
};

/** Where a customer can be reached, per channel, from their identities (in-app: their app user id). */
export function reachability(identities: Audience["identities"]): Partial<Record<Channel, string[]>> {
  const out: Partial<Record<Channel, string[]>> = {};
  for (const { channel, address } of customerAddresses(identities)) {
    const list = out[channel] ?? [];
    if (!list.includes(address)) list.push(address);
    out[channel] = list;
  }
  const users = identities.filter((i) => i.kind === "user_id").map((i) => i.value);
  if (users.length > 0) out.in_app = users;
  return out;
}

/** The topic by key; unknown or archived topics are refused with the keys that exist. */
async function loadTopic(db: Db, workspaceId: string, topicKey: string): Promise<GateTopic> {
  const [topicRow] = await rows<GateTopic & { archived: boolean }>(
    db,
    sql`SELECT id::text AS id, key, kind, defaults, names, archived_at IS NOT NULL AS archived
        FROM topics WHERE workspace_id = ${workspaceId} AND key = ${topicKey}`,
  );
  if (!topicRow || topicRow.archived) {
    const known = await rows<{ key: string }>(
      db,
      sql`SELECT key FROM topics WHERE workspace_id = ${workspaceId} AND archived_at IS NULL ORDER BY key LIMIT 20`,
    );
    throw new AppError(
      "delivery.topic_not_found",
      `No topic "${topicKey}" in this workspace; use one of: ${known.map((k) => k.key).join(", ") || "(none yet)"}.`,
      { topic: topicKey },
    );
  }
  const { archived: _archived, ...topic } = topicRow;
  return topic;
}

/** `loadGateContexts` for one customer. */
export async function loadGateContext(
  db: Db,
  workspaceId: string,
  customer: Audience,
  topicKey: string,
): Promise<GateContext> {
  const all = await loadGateContexts(db, workspaceId, [customer], topicKey);
  const one = all.get(customer.id);
  if (!one) throw new Error("no gate context for the customer asked");
  return one;
}

/**
 * Loads what the Gate needs to decide for many customers and one topic, in a handful of
 * statements whatever their number: the topic's rule, consent states, suppressed
 * addresses, preferences, time zones and the workspace's rules.
 */
export async function loadGateContexts(
  db: Db,
  workspaceId: string,
  customers: readonly Audience[],
  topicKey: string,
): Promise<Map<string, GateContext>> {
  const settings = await getMessagingSettings(db, workspaceId);
  const topic = await loadTopic(db, workspaceId, topicKey);
  const ids = [...new Set(customers.map((c) => c.id))];
  const reach = new Map(customers.map((c) => [c.id, reachability(c.identities)]));
  const hashes = new Map<string, string>();
  for (const r of reach.values()) {
    for (const [channel, list] of Object.entries(r)) {
      for (const address of list) {
        try {
          hashes.set(`${channel}:${address}`, `${channel}:${addressHash(channel as Channel, address)}`);
        } catch {
          // an address that does not normalise cannot be suppressed either
        }
      }
    }
  }
  const [states, prefs, suppressedRows] = await Promise.all([
    rows<{
      customerId: string;
      channel: Channel;
      topic: string;
      status: "subscribed" | "unsubscribed";
      at: number;
    }>(
      db,
      sql`SELECT s.customer_id::text AS "customerId", s.channel, s.topic, s.status,
            (extract(epoch FROM s.updated_at) * 1000)::float8 AS at
          FROM ${eachValue(ids)} CROSS JOIN LATERAL (SELECT * FROM consent_states
            WHERE workspace_id = ${workspaceId} AND customer_id = x.v::uuid) AS s`,
    ),
    rows<{
      customerId: string;
      timezone: string | null;
      language: string | null;
      quietHours: QuietHours | null;
      pausedUntil: string | null;
      channelOrder: Channel[];
    }>(
      db,
      sql`SELECT p.customer_id::text AS "customerId", p.timezone, p.language, p.quiet_hours AS "quietHours",
            p.paused_until::text AS "pausedUntil", p.channel_order AS "channelOrder"
          FROM ${eachValue(ids)} CROSS JOIN LATERAL (SELECT * FROM customer_preferences
            WHERE workspace_id = ${workspaceId} AND customer_id = x.v::uuid) AS p`,
    ),
    hashes.size === 0
      ? Promise.resolve([])
      : rows<{ k: string }>(
          db,
          sql`SELECT s.channel || ':' || s.address_hash AS k FROM ${eachValue(new Set(hashes.values()))}
              CROSS JOIN LATERAL (SELECT channel, address_hash FROM suppressions
                WHERE workspace_id = ${workspaceId} AND channel = split_part(x.v, ':', 1)
                  AND address_hash = split_part(x.v, ':', 2)) AS s`,
        ),
  ]);
  const suppressedHashes = new Set(suppressedRows.map((r) => r.k));
  const statesOf = new Map<string, ConsentStateRow[]>();
  for (const s of states) {
    const list = statesOf.get(s.customerId) ?? [];
    list.push({ channel: s.channel, topic: s.topic, status: s.status, at: Number(s.at) });
    statesOf.set(s.customerId, list);
  }
  const prefOf = new Map(prefs.map((p) => [p.customerId, p]));
  const out = new Map<string, GateContext>();
  for (const customer of customers) {
    const reachable = reach.get(customer.id) ?? {};
    const suppressed = new Set<string>();
    for (const [channel, list] of Object.entries(reachable)) {
      for (const address of list) {
        const h = hashes.get(`${channel}:${address}`);
        if (h && suppressedHashes.has(h)) suppressed.add(`${channel}:${address}`);
      }
    }
    const pref = prefOf.get(customer.id);
    const phones = customerPhones(customer.identities);
    const country = customerCountry(customer.traits, phones);
    const locale = typeof customer.traits.locale === "string" ? customer.traits.locale : undefined;
    const timezone = customerTimezone({
      preferred: pref?.timezone ?? null,
      traits: customer.traits,
      phones,
      locale,
      defaultTimezone: settings.defaultTimezone,
    });
    const traitLanguage = typeof customer.traits.language === "string" ? customer.traits.language : undefined;
    out.set(customer.id, {
      topic,
      settings,
      language: pref?.language ?? traitLanguage ?? locale?.split(/[-_]/)[0] ?? settings.defaultLanguage,
      input: {
        topic,
        reachable,
        // the chat widget answers a browser by its anonymous id, only where the customer wrote from
        replyOnly: {
          in_app: customer.identities.filter((i) => i.kind === "anonymous_id").map((i) => i.value),
        },
        suppressed,
        states: statesOf.get(customer.id) ?? [],
        optInCountry: country !== undefined && settings.optInCountries.includes(country),
        timezone,
        quietHours: pref?.quietHours ?? settings.defaultQuietHours ?? null,
        pausedUntil: pref?.pausedUntil ? new Date(pref.pausedUntil) : null,
        channelOrder: pref?.channelOrder ?? [],
        fallbackOrder: settings.fallbackOrder,
        caps: settings.caps,
      },
    });
  }
  return out;
}
