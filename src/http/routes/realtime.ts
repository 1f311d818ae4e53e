import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { conversationsTopic } from "../../conversations/inbound.ts";
import { AppError } from "../../errors.ts";
import { fromOwnOrigin, requireAuth } from "../auth.ts";

const HEARTBEAT_MS = 25_000;

// every agent's socket gets the same bus message: it is encoded once, not once per socket
const encoded = new WeakMap<object, Buffer>();
function encode(message: unknown): Buffer {
  if (typeof message !== "object" || message === null) return Buffer.from(JSON.stringify(message));
  let bytes = encoded.get(message);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify(message));
    encoded.set(message, bytes);
  }
  return bytes;
}

/** A browser's WebSocket must come from Rapport's own pages (cookies would let any site in). */
function assertOwnOrigin(request: FastifyRequest): void {
  if (fromOwnOrigin(request)) return;
  throw new AppError("auth.forbidden", "The live connection must come from Rapport's own pages.", {
    origin: request.headers.origin,
  });
}

/**
 * `GET /api/v1/realtime` (WebSocket): an agent's live feed. Every change to the workspace's
 * conversations (`message.created`, `conversation.updated`…) arrives as one JSON message, from
 * whichever process made it (the bus crosses processes on PostgreSQL). Signed in by the session
 * cookie, or a secret key for programs.
 */
export const realtimeRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    "/api/v1/realtime",
    {
      websocket: true,
      schema: { tags: ["realtime"], summary: "An agent's live feed of conversation changes (WebSocket)" },
      preValidation: async (request) => {
        assertOwnOrigin(request);
        request.realtimeWorkspace = (await requireAuth(request)).workspaceId;
      },
    },
    (socket, request) => {
      const workspaceId = request.realtimeWorkspace;
      if (!workspaceId) {
        socket.close(1008, "unauthorized");
        return;
      }
      const unsubscribe = app.bus.subscribe(conversationsTopic(workspaceId), (message) => {
        // sent as a text frame, as the JSON it is
        if (socket.readyState === socket.OPEN) socket.send(encode(message), { binary: false });
      });
      const beat = setInterval(() => {
        if (socket.readyState === socket.OPEN) socket.ping();
      }, HEARTBEAT_MS);
      beat.unref();
      socket.on("close", () => {
        clearInterval(beat);
        unsubscribe();
      });
      socket.send(JSON.stringify({ type: "ready" }));
    },
  );
};

declare module "fastify" {
  interface FastifyRequest {
    realtimeWorkspace?: string;
  }
}
