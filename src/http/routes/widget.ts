import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { WIDGET_ASSETS, type WidgetAssetName, widgetAsset } from "../../channels/chat/assets.ts";
import { frameCsp, framePage, widgetLang } from "../../channels/chat/frame-page.ts";
import { markSeen } from "../../channels/chat/seen.ts";
import { SessionInput, setVisitorEmail, startSession } from "../../channels/chat/session.ts";
import { getChatInbox } from "../../channels/chat/settings.ts";
import { visitorTopic } from "../../channels/chat/topics.ts";
import { agentTyping, visitorTyping } from "../../channels/chat/typing.ts";
import { authenticateVisitor, type Visitor } from "../../channels/chat/visitor.ts";
import {
  postVisitorMessage,
  VisitorMessageInput,
  visitorConversations,
  visitorMessages,
} from "../../channels/chat/visitor-messages.ts";
import { appTopic } from "../../contracts/message-center.ts";
import { listMessages as listInApp, markRead, unreadCount } from "../../delivery/message-center.ts";
import { AppError } from "../../errors.ts";
import { requireAuth } from "../auth.ts";

const tags = ["chat widget"];
// visitor routes take the token a session answers (not a key of the workspace's API)
const visitorAuth = "Authorization: Bearer <visitor token from POST /widget/v1/sessions>.";
const Id = z.object({ id: z.string() });
const HEARTBEAT_MS = 25_000;
/** The close code of a socket whose token is refused: the widget starts a new session. */
const CLOSE_UNAUTHORIZED = 4401;

// the brand's pages load the loader and embed the frame from another origin
const embeddable = { xFrameOptions: false, crossOriginResourcePolicy: { policy: "cross-origin" } } as const;

function bearer(request: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  return m?.[1];
}

/** Limits per visitor token (per client IP before a session exists). */
function perVisitor(max: number) {
  return {
    rateLimit: {
      max,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) => bearer(request) ?? request.ip,
      errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
        new AppError("request.rate_limited", `Too many chat requests; try again in ${context.after}.`),
    },
  };
}

const SocketMessage = z.object({
  type: z.literal("typing"),
  conversationId: z.uuid(),
  typing: z.boolean(),
});

/**
 * The chat widget: its loader script and iframe app (bundled from `widget/` on first use),
 * the visitor API (`/widget/v1/*`, authenticated by the visitor token a session answers), the
 * visitor's live socket, and agents' typing signal. The frame and the loader may be embedded
 * on any site (or the inbox's allowed origins); the agent app keeps helmet's defaults.
 */
export const widgetRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  const country = () => app.ctx.config.defaultCountry;
  const visitor = (request: FastifyRequest): Promise<Visitor> => authenticateVisitor(db(), bearer(request));

  const serveAsset = async (name: WidgetAssetName, request: FastifyRequest, reply: FastifyReply) => {
    const asset = await widgetAsset(name);
    const versioned = typeof (request.query as { v?: unknown }).v === "string";
    const etag = `"${asset.version}"`;
    reply
      .type(asset.contentType)
      .header("etag", etag)
      .header("vary", "accept-encoding")
      // the loader's URL never changes: a short cache lets updates reach sites within minutes
      .header("cache-control", versioned ? "public, max-age=31536000, immutable" : "public, max-age=300");
    if (request.headers["if-none-match"] === etag) return reply.status(304).send();
    if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""))) {
      return reply.header("content-encoding", "gzip").send(asset.gzip);
    }
    return reply.send(asset.body);
  };
  for (const name of Object.keys(WIDGET_ASSETS) as WidgetAssetName[]) {
    app.get(
      `/widget/v1/${name}`,
      {
        helmet: embeddable,
        schema: {
          tags,
          summary: `The widget's ${name}`,
          querystring: z.object({ v: z.string().optional() }),
        },
      },
      async (request, reply) => serveAsset(name, request, reply),
    );
  }

  app.get(
    "/widget/v1/frame",
    {
      helmet: embeddable,
      schema: {
        tags,
        summary: "The chat app's page, opened by the loader in an iframe",
        querystring: z.object({
          workspace: z.string(),
          inbox: z.string(),
          lang: z.string().max(20).optional(),
        }),
      },
    },
    async (request, reply) => {
      const chat = await getChatInbox(db(), request.query.workspace, request.query.inbox);
      const [js, css] = await Promise.all([widgetAsset("frame.js"), widgetAsset("frame.css")]);
      const lang = widgetLang(request.query.lang, request.headers["accept-language"]);
      return reply
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("content-security-policy", frameCsp(chat, socketOrigin(request)))
        .send(framePage(chat, request.query.workspace, lang, { js: js.version, css: css.version }));
    },
  );

  app.post(
    "/widget/v1/sessions",
    {
      config: perVisitor(60),
      schema: {
        tags,
        summary: "Start a visitor's session (anonymous, or a user proven by userHash)",
        description:
          "Answers a visitor token for the other widget calls. `userId` needs `userHash` (hex HMAC-SHA256 " +
          "of the user id with the inbox's or workspace's identity secret) when the inbox enforces " +
          "identity verification; a wrong hash is refused (401) and nothing is stored.",
        body: SessionInput,
      },
    },
    async (request, reply) => {
      const session = await startSession(db(), request.body, { defaultCountry: country() });
      reply.status(201);
      return session;
    },
  );

  app.post(
    "/widget/v1/messages",
    {
      config: perVisitor(60),
      bodyLimit: 32 * 1024,
      schema: {
        tags,
        description: visitorAuth,
        summary: "Send the visitor's message",
        body: VisitorMessageInput,
      },
    },
    async (request, reply) => {
      const result = await postVisitorMessage(db(), await visitor(request), request.body, {
        defaultCountry: country(),
      });
      reply.status(result.duplicate ? 200 : 201);
      return result;
    },
  );

  app.get(
    "/widget/v1/conversations",
    { schema: { tags, description: visitorAuth, summary: "The visitor's conversations, latest first" } },
    async (request) => ({ data: await visitorConversations(db(), await visitor(request)) }),
  );

  app.get(
    "/widget/v1/conversations/:id/messages",
    {
      schema: {
        tags,
        description: visitorAuth,
        summary: "A conversation as the visitor sees it",
        params: Id,
      },
    },
    async (request) => ({ data: await visitorMessages(db(), await visitor(request), request.params.id) }),
  );

  app.post(
    "/widget/v1/seen",
    {
      config: perVisitor(120),
      schema: {
        tags,
        description: visitorAuth,
        summary: "Acknowledge replies the widget showed the visitor",
        body: z.object({ deliveryIds: z.array(z.uuid()).min(1).max(50) }),
      },
    },
    async (request) => markSeen(db(), await visitor(request), request.body.deliveryIds),
  );

  app.post(
    "/widget/v1/email",
    {
      config: perVisitor(10),
      schema: {
        tags,
        description: visitorAuth,
        summary: "Leave an email so the conversation can go on by email",
        body: z.object({ email: z.string().max(254) }),
      },
    },
    async (request) =>
      setVisitorEmail(db(), await visitor(request), request.body.email, { defaultCountry: country() }),
  );

  app.get(
    "/widget/v1/inbox",
    {
      schema: {
        tags,
        description: visitorAuth,
        summary: "The signed-in visitor's in-app message center (empty for anonymous visitors)",
      },
    },
    async (request) => {
      const v = await visitor(request);
      // in-app messages are the account's: only a proven user id opens them
      if (!v.userId) return { data: [], nextCursor: null, unread: 0 };
      const page = await listInApp(db(), v.workspaceId, v.customer.id, { limit: 50 });
      return { ...page, unread: await unreadCount(db(), v.workspaceId, v.customer.id) };
    },
  );

  app.post(
    "/widget/v1/inbox/:id/read",
    { schema: { tags, description: visitorAuth, summary: "Mark an in-app message read", params: Id } },
    async (request) => {
      const v = await visitor(request);
      if (!v.userId) {
        throw new AppError("chat.message_not_found", "No such message in your message center.", {
          id: request.params.id,
        });
      }
      return markRead(db(), v.workspaceId, v.customer.id, request.params.id);
    },
  );

  app.get(
    "/widget/v1/socket",
    {
      websocket: true,
      schema: {
        tags,
        summary: "The visitor's live feed: agents' replies and typing (WebSocket, ?token=)",
        querystring: z.object({ token: z.string().max(4096).optional() }),
      },
    },
    async (socket, request) => {
      const { token } = z.object({ token: z.string().optional() }).parse(request.query);
      let v: Visitor;
      try {
        v = await authenticateVisitor(db(), token);
      } catch {
        socket.close(CLOSE_UNAUTHORIZED, "unauthorized");
        return;
      }
      const forward = (message: unknown) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      };
      const stops = v.addresses.map((a) =>
        app.bus.subscribe(visitorTopic(v.workspaceId, v.chat.inbox.id, a), forward),
      );
      if (v.userId) {
        stops.push(
          app.bus.subscribe(appTopic(v.workspaceId, v.customer.id), (event) =>
            forward({ type: "inbox", event }),
          ),
        );
      }
      const lastTyping = new Map<string, number>();
      socket.on("message", (data) => {
        let parsed: z.infer<typeof SocketMessage>;
        try {
          parsed = SocketMessage.parse(JSON.parse(String(data)));
        } catch {
          return;
        }
        // a keystroke is not an event: one "typing" per conversation every two seconds at most
        const now = Date.now();
        if (parsed.typing && now - (lastTyping.get(parsed.conversationId) ?? 0) < 2000) return;
        lastTyping.set(parsed.conversationId, parsed.typing ? now : 0);
        visitorTyping(db(), v, parsed.conversationId, parsed.typing).catch(() => undefined);
      });
      const beat = setInterval(() => {
        if (socket.readyState === socket.OPEN) socket.ping();
      }, HEARTBEAT_MS);
      beat.unref();
      socket.on("close", () => {
        clearInterval(beat);
        for (const stop of stops) stop();
      });
      forward({ type: "ready" });
    },
  );

  app.post(
    "/api/v1/conversations/:id/typing",
    {
      schema: {
        tags: ["conversations"],
        security: [{ secretKey: [] }, { sessionCookie: [] }],
        summary: "Tell the customer (chat widget) and other agents that you are typing",
        params: Id,
        // no body at all means "typing": the agent app pings while the agent writes
        body: z.object({ typing: z.boolean().default(true) }).nullish(),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      await agentTyping(
        db(),
        p.workspaceId,
        request.params.id,
        p.kind === "user" ? p.userId : null,
        request.body?.typing ?? true,
      );
      reply.status(204).send();
    },
  );
};

/** The WebSocket origin of this server as the browser reached it, for the frame's CSP. */
function socketOrigin(request: FastifyRequest): string {
  const secure = request.protocol === "https";
  // the Host header is the client's word: only a plain host[:port] may enter the policy
  const host = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(request.host) ? request.host : "";
  return host ? `${secure ? "wss" : "ws"}://${host}` : "";
}
