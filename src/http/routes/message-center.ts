import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { verifyAppUser } from "../../consent/app-identity.ts";
import { getMessagingSettings } from "../../consent/settings.ts";
import { Page } from "../../contracts/customers.ts";
import {
  AgentInAppMessage,
  AgentListQuery,
  AppListQuery,
  AppStreamEvent,
  appTopic,
  InAppMessage,
  UnreadCount,
} from "../../contracts/message-center.ts";
import {
  archive,
  deleteMessage,
  listMessages,
  listMessagesForAgent,
  markRead,
  unreadCount,
} from "../../delivery/message-center.ts";
import { AppError } from "../../errors.ts";
import { verifyApiKey } from "../../platform/api-keys.ts";
import { findByIdentifier, getCustomer } from "../../profiles/customers.ts";
import { requireAuth, requireWriteKey } from "../auth.ts";

/** How often an idle app stream sends a comment, so proxies and phones keep it open. */
export const APP_STREAM_HEARTBEAT_MS = 25_000;

const APP_PREFIX = "/api/v1/app/";
const appTags = ["app message center"];
const appSecurity: Array<Record<string, string[]>> = [{ writeKey: [] }];
const AppHeaders = z.object({
  "x-rapport-user-id": z.string().optional().describe("The app user's id (the Segment userId)."),
  "x-rapport-user-hash": z
    .string()
    .optional()
    .describe(
      "Hex HMAC-SHA256 of the user id with the workspace's identity secret, computed by the brand's backend.",
    ),
});
const MessageParams = z.object({ id: z.string().describe("A message id.") });

type AppCaller = { workspaceId: string; customerId: string | undefined; userId: string };

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Who an app call speaks for: the workspace's write key (Basic user name, or `writeKey` in the
 * stream's query) and a user id proven by its hash. The customer is the holder of that user
 * id; undefined when the app's user is not known yet.
 */
async function appCaller(
  request: FastifyRequest,
  query: { userId?: string | undefined; userHash?: string | undefined; writeKey?: string | undefined } = {},
): Promise<AppCaller> {
  const db = request.server.ctx.database.db;
  let workspaceId: string;
  if (query.writeKey && !request.headers.authorization) {
    const key = await verifyApiKey(db, query.writeKey, "write");
    if (!key) throw new AppError("auth.unauthorized", "The write key is unknown or revoked.");
    workspaceId = key.workspaceId;
  } else {
    workspaceId = (await requireWriteKey(request)).workspaceId;
  }
  const userId = header(request, "x-rapport-user-id") ?? query.userId;
  const hash = header(request, "x-rapport-user-hash") ?? query.userHash;
  if (!userId || !hash) {
    throw new AppError(
      "message_center.unauthorized",
      "Send the user id and its hash as X-Rapport-User-Id and X-Rapport-User-Hash (userId and userHash on the stream).",
    );
  }
  const settings = await getMessagingSettings(db, workspaceId);
  if (!verifyAppUser(settings.identitySecret, userId, hash)) {
    throw new AppError(
      "message_center.unauthorized",
      "The user hash does not match this user id: compute it on your backend as hex HMAC-SHA256(identity secret, user id).",
    );
  }
  const customer = await findByIdentifier(
    db,
    workspaceId,
    "user_id",
    userId,
    request.server.ctx.config.defaultCountry,
  );
  return { workspaceId, customerId: customer?.id, userId };
}

function requireCustomer(caller: AppCaller, id: string): string {
  if (!caller.customerId) {
    throw new AppError(
      "message_center.message_not_found",
      "No such message in this customer's message center.",
      {
        id,
      },
    );
  }
  return caller.customerId;
}

/** The brand's app reads its user's message center; agents read any customer's. */
export const messageCenterRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  const openStreams = new Set<() => void>();
  // the brand's web app calls from its own origin; credentials are explicit headers, never
  // cookies, so any origin may call (and a browser never sends Rapport's session along)
  app.addHook("onRequest", async (request, reply) => {
    if (request.url.startsWith(APP_PREFIX)) reply.header("access-control-allow-origin", "*");
  });
  app.options(`${APP_PREFIX}*`, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .status(204)
      .header("access-control-allow-methods", "GET, POST, DELETE")
      .header(
        "access-control-allow-headers",
        "authorization, content-type, x-rapport-user-id, x-rapport-user-hash",
      )
      .header("access-control-max-age", "600")
      .send(),
  );
  // open streams would keep the server from closing
  app.addHook("preClose", async () => {
    for (const end of [...openStreams]) end();
  });

  app.get(
    "/api/v1/app/messages",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "List the app user's messages",
        description:
          "Newest first. Write key as the Basic user name, plus X-Rapport-User-Id and X-Rapport-User-Hash. " +
          "A user Rapport does not know yet has an empty message center.",
        headers: AppHeaders,
        querystring: AppListQuery,
        response: { 200: Page(InAppMessage) },
      },
    },
    async (request) => {
      const caller = await appCaller(request);
      if (!caller.customerId) return { data: [], nextCursor: null };
      return listMessages(db(), caller.workspaceId, caller.customerId, request.query);
    },
  );

  app.get(
    "/api/v1/app/messages/unread-count",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "Count the app user's unread messages",
        headers: AppHeaders,
        response: { 200: UnreadCount },
      },
    },
    async (request) => {
      const caller = await appCaller(request);
      return {
        unread: caller.customerId ? await unreadCount(db(), caller.workspaceId, caller.customerId) : 0,
      };
    },
  );

  app.post(
    "/api/v1/app/messages/:id/read",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "Mark a message read",
        description: "Idempotent. The user's other open streams hear an `updated` event.",
        headers: AppHeaders,
        params: MessageParams,
        response: { 200: InAppMessage },
      },
    },
    async (request) => {
      const caller = await appCaller(request);
      const { id } = request.params;
      return markRead(db(), caller.workspaceId, requireCustomer(caller, id), id);
    },
  );

  app.post(
    "/api/v1/app/messages/:id/archive",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "Archive a message",
        description: "Idempotent. Archived messages leave the inbox and are listed with `state=archived`.",
        headers: AppHeaders,
        params: MessageParams,
        response: { 200: InAppMessage },
      },
    },
    async (request) => {
      const caller = await appCaller(request);
      const { id } = request.params;
      return archive(db(), caller.workspaceId, requireCustomer(caller, id), id);
    },
  );

  app.delete(
    "/api/v1/app/messages/:id",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "Delete a message",
        description: "Idempotent. The message leaves the user's message center (agents still see it).",
        headers: AppHeaders,
        params: MessageParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const caller = await appCaller(request);
      const { id } = request.params;
      await deleteMessage(db(), caller.workspaceId, requireCustomer(caller, id), id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/app/messages/stream",
    {
      schema: {
        tags: appTags,
        security: appSecurity,
        summary: "Stream the app user's new messages (Server-Sent Events)",
        description:
          "`text/event-stream`: each event's data is JSON, `{ type: 'message', message }` for a new message " +
          "(`{ type: 'message_ref', id }` when it is too large to travel: list it), `{ type: 'updated', id, state, readAt }` " +
          `when one is read, archived or deleted (from any of the user's devices). A comment every ${APP_STREAM_HEARTBEAT_MS / 1000} s ` +
          "keeps the connection open. EventSource cannot send headers, so this route also accepts " +
          "`?writeKey=&userId=&userHash=` in the query (the headers still work for other clients). " +
          "404 when Rapport does not know the user yet: identify them first.",
        headers: AppHeaders,
        querystring: z.object({
          writeKey: z.string().optional(),
          userId: z.string().optional(),
          userHash: z.string().optional(),
        }),
      },
    },
    async (request, reply) => {
      const caller = await appCaller(request, request.query);
      if (!caller.customerId) {
        throw new AppError(
          "message_center.user_not_found",
          "Rapport does not know this user id yet; identify the user (POST /v1/identify) before opening the stream.",
          { userId: caller.userId },
        );
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "access-control-allow-origin": "*",
      });
      const write = (chunk: string) => {
        if (!res.destroyed && !res.writableEnded) res.write(chunk);
      };
      const unsubscribe = app.bus.subscribe(appTopic(caller.workspaceId, caller.customerId), (message) => {
        const event = AppStreamEvent.safeParse(message);
        if (event.success) write(`data: ${JSON.stringify(event.data)}\n\n`);
      });
      const heartbeat = setInterval(() => write(": heartbeat\n\n"), APP_STREAM_HEARTBEAT_MS);
      const end = () => {
        if (!openStreams.delete(end)) return;
        clearInterval(heartbeat);
        unsubscribe();
        if (!res.writableEnded) res.end();
      };
      openStreams.add(end);
      res.on("close", end);
      // sent once subscribed, so a client that has read it misses nothing published after
      write("retry: 5000\n: connected\n\n");
    },
  );

  app.get(
    "/api/v1/customers/:id/in-app-messages",
    {
      schema: {
        tags: ["customers"],
        security: [{ secretKey: [] }, { sessionCookie: [] }],
        summary: "A customer's in-app messages",
        description: "Newest first, every state (deleted and expired ones included, flagged), for agents.",
        params: z.object({
          id: z.string().describe("A customer id; a merged id answers with its survivor."),
        }),
        querystring: AgentListQuery,
        response: { 200: Page(AgentInAppMessage) },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const customer = await getCustomer(db(), p.workspaceId, request.params.id);
      return listMessagesForAgent(db(), p.workspaceId, customer.id, request.query);
    },
  );
};
