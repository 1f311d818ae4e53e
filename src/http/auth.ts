import type { FastifyRequest } from "fastify";
import { verifyApiKey } from "../platform/api-keys.ts";
import { AppError } from "../errors.ts";

export type Role = "owner" | "admin" | "agent";

/** Who is calling the REST API: a signed-in user (session cookie) or a secret API key. */
export type Principal =
  | { kind: "user"; workspaceId: string; userId: string; role: Role }
  | { kind: "api_key"; workspaceId: string; keyId: string };

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/**
 * Authenticates a REST call by secret key (`Authorization: Bearer sk_…`). Session cookies
 * are accepted too once the platform module provides them (see `authenticateSession`).
 * `roles` limits user principals; API keys act as the workspace and pass every role check.
 */
export async function requireAuth(request: FastifyRequest, opts: { roles?: Role[] } = {}): Promise<Principal> {
  const token = bearer(request);
  if (token) {
    const key = await verifyApiKey(request.server.ctx.database.db, token, "secret");
    if (!key) {
      throw new AppError("auth.unauthorized", "The secret key is unknown or revoked. Send a valid key as `Authorization: Bearer sk_…`.");
    }
    return { kind: "api_key", workspaceId: key.workspaceId, keyId: key.keyId };
  }
  void opts;
  throw new AppError("auth.unauthorized", "Sign in, or send a secret key as `Authorization: Bearer sk_…`.");
}

/**
 * Authenticates event ingestion the way Segment does: the write key as the HTTP Basic user
 * name (password empty), or a `writeKey` field in the JSON body.
 */
export async function requireWriteKey(request: FastifyRequest): Promise<{ workspaceId: string; keyId: string }> {
  let token: string | undefined;
  const h = request.headers.authorization;
  if (h) {
    const m = /^Basic\s+(\S+)$/i.exec(h);
    if (m?.[1]) token = Buffer.from(m[1], "base64").toString("utf8").split(":")[0];
  }
  if (!token) {
    const body: unknown = request.body;
    if (typeof body === "object" && body !== null && "writeKey" in body && typeof body.writeKey === "string") {
      token = body.writeKey;
    }
  }
  if (!token) {
    throw new AppError("auth.unauthorized", "Send the write key as the HTTP Basic user name, or as `writeKey` in the body.");
  }
  const key = await verifyApiKey(request.server.ctx.database.db, token, "write");
  if (!key) throw new AppError("auth.unauthorized", "The write key is unknown or revoked.");
  return { workspaceId: key.workspaceId, keyId: key.keyId };
}
