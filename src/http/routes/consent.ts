import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { changeConsent, consentLedger, consentOverview } from "../../consent/ledger.ts";
import { preferenceLinkFor } from "../../consent/preference-links.ts";
import { getPreferences, updatePreferences } from "../../consent/preferences.ts";
import { getMessagingSettings } from "../../consent/settings.ts";
import { presentSettings, updateMessagingSettings } from "../../consent/settings-admin.ts";
import {
  addSuppression,
  listSuppressions,
  presentSuppression,
  removeSuppression,
} from "../../consent/suppressions.ts";
import {
  archiveTopic,
  createTopic,
  getTopicByKey,
  listTopics,
  presentTopic,
  updateTopic,
} from "../../consent/topics.ts";
import {
  Channel,
  ConsentChangeRequest,
  ConsentEntry,
  ConsentOverview,
  MessagingSettingsPatch,
  MessagingSettingsView,
  Preferences,
  PreferencesPatch,
  Suppression,
  SuppressionInput,
  Topic,
  TopicInput,
  TopicPatch,
} from "../../contracts/consent.ts";
import { Limit, Page } from "../../contracts/customers.ts";
import { actorOf, type Principal, requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const ADMINS = { roles: ["owner" as const, "admin" as const] };
const CustomerParams = z.object({
  id: z.string().describe("A customer id; a merged id answers with its survivor."),
});
const KeyParams = z.object({ key: z.string().describe("The topic's key, e.g. promotions.") });

function actorId(p: Principal): string {
  return p.kind === "user" ? p.userId : p.keyId;
}

/**
 * The consent REST API: topics, each customer's consent (overview, ledger, changes) and
 * preferences, suppressions, and the workspace's messaging settings. Everyone reads; topics
 * and settings are changed by owners and admins.
 */
export const consentRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  const config = () => app.ctx.config;

  app.get(
    "/api/v1/topics",
    {
      schema: {
        tags: ["topics"],
        security,
        summary: "List topics",
        querystring: z.object({ includeArchived: z.stringbool().default(false) }),
        response: { 200: z.object({ data: z.array(Topic) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const found = await listTopics(db(), p.workspaceId, { includeArchived: request.query.includeArchived });
      return { data: found.map(presentTopic) };
    },
  );

  app.post(
    "/api/v1/topics",
    {
      schema: {
        tags: ["topics"],
        security,
        summary: "Create a topic",
        description: "Names need `en` or the workspace's default language. Owners and admins.",
        body: TopicInput,
        response: { 201: Topic },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, ADMINS);
      const topic = await createTopic(db(), p.workspaceId, request.body, actorOf(p));
      return reply.status(201).send(presentTopic(topic));
    },
  );

  app.get(
    "/api/v1/topics/:key",
    {
      schema: {
        tags: ["topics"],
        security,
        summary: "Get a topic",
        params: KeyParams,
        response: { 200: Topic },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return presentTopic(await getTopicByKey(db(), p.workspaceId, request.params.key));
    },
  );

  app.patch(
    "/api/v1/topics/:key",
    {
      schema: {
        tags: ["topics"],
        security,
        summary: "Change a topic",
        description: "`archived: false` brings an archived topic back. Owners and admins.",
        params: KeyParams,
        body: TopicPatch,
        response: { 200: Topic },
      },
    },
    async (request) => {
      const p = await requireAuth(request, ADMINS);
      return presentTopic(
        await updateTopic(db(), p.workspaceId, request.params.key, request.body, actorOf(p)),
      );
    },
  );

  app.delete(
    "/api/v1/topics/:key",
    {
      schema: {
        tags: ["topics"],
        security,
        summary: "Archive a topic",
        description: "Topics are archived, never deleted: their consent history stays. Owners and admins.",
        params: KeyParams,
        response: { 200: Topic },
      },
    },
    async (request) => {
      const p = await requireAuth(request, ADMINS);
      return presentTopic(await archiveTopic(db(), p.workspaceId, request.params.key, actorOf(p)));
    },
  );

  app.get(
    "/api/v1/customers/:id/consent",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "What a customer receives",
        description:
          "Every live topic × every channel: subscribed, and whether that comes from the topic's own entry, a channel-wide entry or the default. With preferences and suppressions.",
        params: CustomerParams,
        response: { 200: ConsentOverview },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return consentOverview(db(), p.workspaceId, request.params.id);
    },
  );

  app.get(
    "/api/v1/customers/:id/consent/ledger",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "A customer's consent history, newest first",
        params: CustomerParams,
        querystring: z.object({ limit: Limit, cursor: z.string().optional() }),
        response: { 200: Page(ConsentEntry) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return consentLedger(db(), p.workspaceId, request.params.id, request.query);
    },
  );

  app.post(
    "/api/v1/customers/:id/consent",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "Record consent changes",
        description:
          "`topic: null` changes every topic of the channel. The caller (user or key) is recorded as the actor; `source` defaults to `agent` for signed-in users and `api` for keys.",
        params: CustomerParams,
        body: ConsentChangeRequest,
        response: { 200: z.object({ data: z.array(ConsentEntry) }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const { changes, source, proof } = request.body;
      const entries = await changeConsent(
        db(),
        p.workspaceId,
        request.params.id,
        changes,
        source ?? (p.kind === "user" ? "agent" : "api"),
        { ...proof, actorId: actorId(p) },
      );
      return { data: entries };
    },
  );

  app.get(
    "/api/v1/customers/:id/preferences",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "A customer's preferences",
        params: CustomerParams,
        response: { 200: Preferences },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return getPreferences(db(), p.workspaceId, request.params.id);
    },
  );

  app.put(
    "/api/v1/customers/:id/preferences",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "Change a customer's preferences",
        description:
          "Absent fields are kept, null clears. timezone: IANA; language: en, fr or the workspace's default; quietHours: { start, end } as HH:MM; pausedUntil: within a year; channelOrder: channels without repeats.",
        params: CustomerParams,
        body: PreferencesPatch,
        response: { 200: Preferences },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return updatePreferences(db(), p.workspaceId, request.params.id, request.body);
    },
  );

  app.post(
    "/api/v1/customers/:id/preference-link",
    {
      schema: {
        tags: ["consent"],
        security,
        summary: "A signed link to the customer's preference center",
        params: CustomerParams,
        response: { 200: z.object({ url: z.string() }) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { url: await preferenceLinkFor(db(), p.workspaceId, request.params.id, config().publicUrl) };
    },
  );

  app.get(
    "/api/v1/suppressions",
    {
      schema: {
        tags: ["suppressions"],
        security,
        summary: "List suppressed addresses, newest first",
        querystring: z.object({ channel: Channel.optional(), limit: Limit, cursor: z.string().optional() }),
        response: { 200: Page(Suppression) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const page = await listSuppressions(db(), p.workspaceId, request.query);
      return { data: page.data.map(presentSuppression), nextCursor: page.nextCursor };
    },
  );

  app.post(
    "/api/v1/suppressions",
    {
      schema: {
        tags: ["suppressions"],
        security,
        summary: "Suppress an address",
        description:
          "Nothing, transactional or not, is sent to it. Adding one already there answers 200 with it.",
        body: SuppressionInput,
        response: { 200: Suppression, 201: Suppression },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const { suppression, created } = await addSuppression(
        db(),
        p.workspaceId,
        request.body,
        config().defaultCountry,
      );
      return reply.status(created ? 201 : 200).send(presentSuppression(suppression));
    },
  );

  app.delete(
    "/api/v1/suppressions/:channel/:address",
    {
      schema: {
        tags: ["suppressions"],
        security,
        summary: "Lift a suppression",
        description: "Erasures cannot be lifted. Owners and admins. URL-encode the address (`%2B` for `+`).",
        params: z.object({ channel: z.string(), address: z.string() }),
        response: { 200: Suppression },
      },
    },
    async (request) => {
      const p = await requireAuth(request, ADMINS);
      const removed = await removeSuppression(
        db(),
        p.workspaceId,
        request.params.channel,
        request.params.address,
        config().defaultCountry,
      );
      return presentSuppression(removed);
    },
  );

  app.get(
    "/api/v1/settings/messaging",
    {
      schema: {
        tags: ["settings"],
        security,
        summary: "The workspace's messaging settings",
        description:
          "Owners and admins. Shows the identity secret the brand's backend signs app user ids with.",
        response: { 200: MessagingSettingsView },
      },
    },
    async (request) => {
      const p = await requireAuth(request, ADMINS);
      return presentSettings(await getMessagingSettings(db(), p.workspaceId));
    },
  );

  app.patch(
    "/api/v1/settings/messaging",
    {
      schema: {
        tags: ["settings"],
        security,
        summary: "Change the workspace's messaging settings",
        description: "Owners and admins.",
        body: MessagingSettingsPatch,
        response: { 200: MessagingSettingsView },
      },
    },
    async (request) => {
      const p = await requireAuth(request, ADMINS);
      return presentSettings(await updateMessagingSettings(db(), p.workspaceId, request.body, actorOf(p)));
    },
  );
};
