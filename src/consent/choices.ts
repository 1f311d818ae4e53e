import {
  AppPreferencesUpdate,
  type ConsentEntry,
  type ConsentOverview,
  type Preferences,
  parseOrThrow,
} from "../contracts/consent.ts";
import type { Db } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { AppError } from "../errors.ts";
import { holdLive } from "../profiles/merge.ts";
import { setTraits } from "../profiles/set-traits.ts";
import { customerCountry, customerPhones } from "./customer-facts.ts";
import { effectiveConsent } from "./effective.ts";
import { consentOverview, consentStatesOf, recordConsentInTransaction } from "./ledger.ts";
import {
  allowedLanguages,
  loadCustomer,
  preferencesOf,
  validatePreferencesPatch,
  writePreferences,
} from "./preferences.ts";
import { getMessagingSettings } from "./settings.ts";
import { CHANNELS, type Channel, type ConsentProof, type ConsentSource } from "./tables.ts";
import { listTopics } from "./topics.ts";

/** What a customer ticked for one topic on one channel. */
export type Choice = { topicId: string; channel: Channel; subscribed: boolean };

export type ChoicesResult = {
  recorded: ConsentEntry[];
  preferencesChanged: string[];
  traitsChanged: string[];
};

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

// A form or an app sends back everything it shows; only what differs from what is stored is
// a change (so an expired pause sent back unchanged is not refused as "in the past").
function changedFields(patch: Record<string, unknown>, current: Preferences): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const held = new Map<string, unknown>(Object.entries(current));
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === "pausedUntil") {
      const a =
        typeof value === "string" ? Date.parse(value) : value instanceof Date ? value.getTime() : null;
      const b = current.pausedUntil ? Date.parse(current.pausedUntil) : null;
      if (a === b || (value === null && b === null)) continue;
    } else if (held.has(key) && same(value, held.get(key))) {
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * Saves what a customer chose on a page or in the app, in one transaction: a ledger entry
 * for every channel × topic whose effective state differs from the choice (so saving an
 * unchanged form records nothing), the preferences that changed, and zero-party answers as
 * traits. Topics must be live (not archived).
 */
export async function saveChoices(
  db: Db,
  workspaceId: string,
  customerId: string,
  input: {
    consent: readonly Choice[];
    preferences?: Record<string, unknown>;
    traits?: Record<string, unknown>;
  },
  source: ConsentSource,
  proof: ConsentProof,
): Promise<ChoicesResult> {
  const customer = await loadCustomer(db, workspaceId, customerId);
  const [settings, topics, current] = await Promise.all([
    getMessagingSettings(db, workspaceId),
    listTopics(db, workspaceId),
    preferencesOf(db, workspaceId, customer.id),
  ]);
  const change = validatePreferencesPatch(changedFields(input.preferences ?? {}, current), {
    now: new Date(),
    languages: allowedLanguages(settings),
  });
  const traits = Object.fromEntries(
    Object.entries(input.traits ?? {}).filter(([k, v]) => !same(customer.traits[k], v)),
  );
  const byId = new Map(topics.map((t) => [t.id, t]));
  for (const c of input.consent) {
    if (!byId.has(c.topicId)) {
      throw new AppError("consent.topic_not_found", `No live topic with id ${c.topicId} in this workspace.`, {
        topicId: c.topicId,
      });
    }
  }
  const country = customerCountry(customer.traits, customerPhones(customer.identities));
  const optIn = country !== undefined && settings.optInCountries.includes(country);
  return transactionWithRetry(db, async (tx) => {
    const live = (await holdLive(tx, workspaceId, [customer.id])).get(customer.id);
    if (!live)
      throw new AppError("consent.customer_not_found", "No customer with that id in this workspace.");
    const states = await consentStatesOf(tx, workspaceId, live);
    const changes = input.consent.flatMap((c) => {
      const topic = byId.get(c.topicId);
      if (!topic) return [];
      const now = effectiveConsent(states, topic, c.channel, optIn);
      return now.subscribed === c.subscribed
        ? []
        : [
            {
              channel: c.channel,
              topicId: c.topicId,
              status: c.subscribed ? ("subscribed" as const) : ("unsubscribed" as const),
            },
          ];
    });
    const recorded =
      changes.length > 0
        ? await recordConsentInTransaction(tx, workspaceId, live, changes, source, proof)
        : [];
    const preferencesChanged = Object.keys(change);
    if (preferencesChanged.length > 0) await writePreferences(tx, workspaceId, live, change);
    const traitsChanged = Object.keys(traits);
    if (traitsChanged.length > 0) await setTraits(tx, workspaceId, live, traits, new Date());
    return { recorded, preferencesChanged, traitsChanged };
  });
}

/** The overview as the brand's app sees it: only topics shown to customers. */
export async function appOverview(db: Db, workspaceId: string, customerId: string): Promise<ConsentOverview> {
  const overview = await consentOverview(db, workspaceId, customerId);
  return { ...overview, topics: overview.topics.filter((t) => t.visible) };
}

/**
 * Saves what the brand's app sends back (the overview's shape: topics by key with
 * `subscribed` per channel, and preferences), recording only what changed, as `in_app`.
 */
export async function saveAppPreferences(
  db: Db,
  workspaceId: string,
  customerId: string,
  body: unknown,
  proof: ConsentProof,
): Promise<ConsentOverview> {
  const input = parseOrThrow(AppPreferencesUpdate, body, "consent.invalid_preferences", "preferences");
  const topics = new Map((await listTopics(db, workspaceId)).filter((t) => t.visible).map((t) => [t.key, t]));
  const consent: Choice[] = [];
  for (const entry of input.topics ?? []) {
    const topic = topics.get(entry.key);
    if (!topic) {
      throw new AppError(
        "consent.topic_not_found",
        `No topic "${entry.key}" shown to customers; valid keys: ${[...topics.keys()].join(", ")}.`,
        {
          key: entry.key,
        },
      );
    }
    for (const [channel, cell] of Object.entries(entry.channels)) {
      const known = CHANNELS.find((c) => c === channel);
      if (!known) {
        throw new AppError(
          "consent.invalid_channel",
          `"${channel}" is not a channel; channels are ${CHANNELS.join(", ")}.`,
        );
      }
      consent.push({ topicId: topic.id, channel: known, subscribed: cell.subscribed });
    }
  }
  await saveChoices(
    db,
    workspaceId,
    customerId,
    { consent, preferences: input.preferences ?? {} },
    "in_app",
    proof,
  );
  return appOverview(db, workspaceId, customerId);
}
