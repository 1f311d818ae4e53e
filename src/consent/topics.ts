import { and, asc, eq, isNull } from "drizzle-orm";
import { parseOrThrow, TopicInput, TopicPatch, type Topic as TopicView } from "../contracts/consent.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { type AuditActor, recordAudit } from "../platform/audit.ts";
import { getMessagingSettings } from "./settings.ts";
import { type Channel, type DefaultConsent, topics } from "./tables.ts";

export type TopicRow = typeof topics.$inferSelect;

const MARKETING_DEFAULTS: Partial<Record<Channel, DefaultConsent>> = {
  email: "opt_out",
  push: "opt_out",
  in_app: "opt_out",
  sms: "opt_in",
  whatsapp: "opt_in",
};
// transactional topics are exempt from consent at the Gate; these defaults only make the
// overview show them as received
const TRANSACTIONAL_DEFAULTS: Partial<Record<Channel, DefaultConsent>> = {
  email: "opt_out",
  sms: "opt_out",
  whatsapp: "opt_out",
  push: "opt_out",
  in_app: "opt_out",
};

type DefaultTopic = Pick<TopicRow, "key" | "kind" | "names" | "descriptions" | "defaults">;

const DEFAULT_TOPICS: DefaultTopic[] = [
  {
    key: "promotions",
    kind: "marketing",
    names: { en: "Promotions", fr: "Promotions" },
    descriptions: { en: "Offers, sales and discounts.", fr: "Offres, soldes et réductions." },
    defaults: MARKETING_DEFAULTS,
  },
  {
    key: "news",
    kind: "marketing",
    names: { en: "News", fr: "Actualités" },
    descriptions: { en: "New features and stories from us.", fr: "Nouveautés et histoires de notre part." },
    defaults: MARKETING_DEFAULTS,
  },
  {
    key: "loyalty",
    kind: "marketing",
    names: { en: "Loyalty points", fr: "Points de fidélité" },
    descriptions: {
      en: "Your points, rewards and tier.",
      fr: "Vos points, récompenses et votre niveau.",
    },
    defaults: MARKETING_DEFAULTS,
  },
  {
    key: "events",
    kind: "marketing",
    names: { en: "Events", fr: "Événements" },
    descriptions: {
      en: "Invitations to events near you.",
      fr: "Invitations aux événements près de chez vous.",
    },
    defaults: MARKETING_DEFAULTS,
  },
  {
    key: "service-status",
    kind: "transactional",
    names: { en: "Service status", fr: "État du service" },
    descriptions: {
      en: "Outages and incidents that affect you.",
      fr: "Pannes et incidents qui vous concernent.",
    },
    defaults: TRANSACTIONAL_DEFAULTS,
  },
  {
    key: "account",
    kind: "transactional",
    names: { en: "Account & billing", fr: "Compte et facturation" },
    descriptions: {
      en: "Receipts, payments, security and changes to your account.",
      fr: "Reçus, paiements, sécurité et modifications de votre compte.",
    },
    defaults: TRANSACTIONAL_DEFAULTS,
  },
  {
    key: "support",
    kind: "transactional",
    names: { en: "Conversations with us", fr: "Échanges avec nous" },
    descriptions: {
      en: "Our answers when you write to us, on the channel you wrote on.",
      fr: "Nos réponses quand vous nous écrivez, sur le canal que vous avez utilisé.",
    },
    defaults: TRANSACTIONAL_DEFAULTS,
  },
];

/** A topic as the API shows it. */
export function presentTopic(t: TopicRow): TopicView {
  return {
    id: t.id,
    key: t.key,
    names: t.names,
    descriptions: t.descriptions,
    kind: t.kind,
    defaults: t.defaults,
    visible: t.visible,
    archivedAt: t.archivedAt ? t.archivedAt.toISOString() : null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/**
 * Creates the starter topics of a workspace (promotions, news, loyalty, events,
 * service-status, account, support) where their keys are free. Safe to run any number of times.
 */
export async function ensureDefaultTopics(db: Db, workspaceId: string): Promise<void> {
  await db
    .insert(topics)
    .values(DEFAULT_TOPICS.map((t) => ({ ...t, workspaceId, id: uuidv7() })))
    .onConflictDoNothing();
}

function requireNameIn(names: Record<string, string>, defaultLanguage: string): void {
  if (names.en || names[defaultLanguage]) return;
  throw new AppError(
    "consent.invalid_topic",
    `A topic needs a name in English ("en") or in the workspace's default language ("${defaultLanguage}").`,
    { languages: Object.keys(names) },
  );
}

async function audit(
  tx: Db,
  workspaceId: string,
  actor: AuditActor | undefined,
  action: string,
  topic: TopicRow,
): Promise<void> {
  if (!actor) return;
  await recordAudit(tx, {
    workspaceId,
    actor,
    action,
    target: { kind: "topic", id: topic.id },
    details: { key: topic.key },
  });
}

/** Creates a topic; the key must be free (an archived topic keeps its key). */
export async function createTopic(
  db: Db,
  workspaceId: string,
  input: unknown,
  actor?: AuditActor,
): Promise<TopicRow> {
  const t = parseOrThrow(TopicInput, input, "consent.invalid_topic", "topic");
  const settings = await getMessagingSettings(db, workspaceId);
  requireNameIn(t.names, settings.defaultLanguage);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(topics)
      .values({
        workspaceId,
        id: uuidv7(),
        key: t.key,
        names: t.names,
        descriptions: t.descriptions ?? {},
        kind: t.kind,
        defaults: t.defaults ?? {},
        visible: t.visible ?? true,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      throw new AppError(
        "consent.topic_already_exists",
        `A topic "${t.key}" already exists (perhaps archived: PATCH it with archived: false to bring it back).`,
        { key: t.key },
      );
    }
    await audit(tx, workspaceId, actor, "topic.created", row);
    return row;
  });
}

/** Changes a topic's names, descriptions, kind, defaults or visibility; `archived: false` restores it. */
export async function updateTopic(
  db: Db,
  workspaceId: string,
  key: string,
  patch: unknown,
  actor?: AuditActor,
): Promise<TopicRow> {
  const p = parseOrThrow(TopicPatch, patch, "consent.invalid_topic", "topic change");
  const current = await getTopicByKey(db, workspaceId, key);
  if (p.names) requireNameIn(p.names, (await getMessagingSettings(db, workspaceId)).defaultLanguage);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(topics)
      .set({
        ...(p.names ? { names: p.names } : {}),
        ...(p.descriptions ? { descriptions: p.descriptions } : {}),
        ...(p.kind ? { kind: p.kind } : {}),
        ...(p.defaults ? { defaults: p.defaults } : {}),
        ...(p.visible !== undefined ? { visible: p.visible } : {}),
        ...(p.archived === false ? { archivedAt: null } : {}),
        ...(p.archived === true && !current.archivedAt ? { archivedAt: new Date() } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(topics.workspaceId, workspaceId), eq(topics.id, current.id)))
      .returning();
    if (!row) throw topicNotFound(key, []);
    await audit(tx, workspaceId, actor, "topic.updated", row);
    return row;
  });
}

/**
 * Archives a topic: hidden from lists and the preference center; its ledger entries stay,
 * and old links that name it still unsubscribe.
 */
export async function archiveTopic(
  db: Db,
  workspaceId: string,
  key: string,
  actor?: AuditActor,
): Promise<TopicRow> {
  return updateTopic(db, workspaceId, key, { archived: true }, actor);
}

/** The workspace's topics by key; archived ones only when asked. */
export async function listTopics(
  db: Db,
  workspaceId: string,
  opts: { includeArchived?: boolean } = {},
): Promise<TopicRow[]> {
  const read = () =>
    db
      .select()
      .from(topics)
      .where(
        and(
          eq(topics.workspaceId, workspaceId),
          opts.includeArchived ? undefined : isNull(topics.archivedAt),
        ),
      )
      .orderBy(asc(topics.createdAt), asc(topics.id));
  const found = await read();
  if (found.length > 0) return found;
  // a workspace that never used messaging has no topics yet (topics are archived, never deleted)
  await ensureDefaultTopics(db, workspaceId);
  return read();
}

function topicNotFound(key: string, known: string[]): AppError {
  const hint = known.length > 0 && known.length <= 20 ? ` Valid keys: ${known.join(", ")}.` : "";
  return new AppError("consent.topic_not_found", `No topic "${key}" in this workspace.${hint}`, { key });
}

/** One topic by its key (archived ones included); throws `consent.topic_not_found` naming it. */
export async function getTopicByKey(db: Db, workspaceId: string, key: string): Promise<TopicRow> {
  const read = async () =>
    (
      await db
        .select()
        .from(topics)
        .where(and(eq(topics.workspaceId, workspaceId), eq(topics.key, key)))
        .limit(1)
    )[0];
  let found = await read();
  if (!found && DEFAULT_TOPICS.some((t) => t.key === key)) {
    // a starter topic is missing only in a workspace that never used messaging
    await ensureDefaultTopics(db, workspaceId);
    found = await read();
  }
  if (found) return found;
  const known = await listTopics(db, workspaceId);
  throw topicNotFound(
    key,
    known.map((t) => t.key),
  );
}
