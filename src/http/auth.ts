import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";
import { verifyApiKey } from "../platform/api-keys.ts";
import type { Actor, Role } from "../platform/roles.ts";
import { authenticateSession, SESSION_COOKIE, sessionCookieOptions } from "../platform/sessions.ts";

export type { Role };

/** Who is calling the REST API: a signed-in user (session cookie) or a secret API key. */
export type Principal =
  | { kind: "user"; workspaceId: string; userId: string; role: Role; sessionId: string }
  | { kind: "api_key"; workspaceId: string; keyId: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/** The session cookie's user, or undefined when there is no valid session (pages use this). */
export async function sessionPrincipal(
  request: FastifyRequest,
): Promise<Extract<Principal, { kind: "user" }> | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return undefined;
  const session = await authenticateSession(request.server.ctx.database.db, token);
  if (!session) return undefined;
  return {
    kind: "user",
    workspaceId: session.workspaceId,
    userId: session.userId,
    role: session.role,
    sessionId: session.sessionId,
  };
}

/**
 * Cookies ride along on cross-site requests; SameSite=Lax stops most of them, and this
 * refuses the rest: a state-changing call with the cookie must come from our own origin.
 */
/** True unless a browser says the request comes from another site's page (no Origin: not a browser). */
export function fromOwnOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  const publicHost = new URL(request.server.ctx.config.publicUrl).host;
  return host !== undefined && (host === request.headers.host || host === publicHost);
}

function assertSameOrigin(request: FastifyRequest): void {
  // browsers always send Origin on cross-site POSTs
  if (SAFE_METHODS.has(request.method) || fromOwnOrigin(request)) return;
  throw new AppError("auth.forbidden", "A request signed in by cookie must come from Rapport's own pages.", {
    origin: request.headers.origin,
  });
}

/**
 * Authenticates a REST call by secret key (`Authorization: Bearer sk_…`) or by the session
 * cookie. `roles` limits user principals; API keys act as the workspace and pass every role check.
 */
export async function requireAuth(
  request: FastifyRequest,
  opts: { roles?: Role[] } = {},
): Promise<Principal> {
  const token = bearer(request);
  if (token) {
    const key = await verifyApiKey(request.server.ctx.database.db, token, "secret");
    if (!key) {
      throw new AppError(
        "auth.unauthorized",
        "The secret key is unknown or revoked. Send a valid key as `Authorization: Bearer sk_…`.",
      );
    }
    return { kind: "api_key", workspaceId: key.workspaceId, keyId: key.keyId };
  }
  const user = await sessionPrincipal(request);
  if (!user) {
    throw new AppError("auth.unauthorized", "Sign in, or send a secret key as `Authorization: Bearer sk_…`.");
  }
  assertSameOrigin(request);
  if (opts.roles && !opts.roles.includes(user.role)) {
    throw new AppError(
      "auth.forbidden",
      `This needs one of the roles ${opts.roles.join(", ")}; you are ${user.role}.`,
      {
        roles: opts.roles,
        role: user.role,
      },
    );
  }
  return user;
}

/** The principal as an actor for domain functions and the audit log. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === "user"
    ? { kind: "user", id: principal.userId, role: principal.role }
    : { kind: "api_key", id: principal.keyId };
}

/**
 * Authenticates event ingestion the way Segment does: the write key as the HTTP Basic user
 * name (password empty), or a `writeKey` field in the JSON body.
 */
export async function requireWriteKey(
  request: FastifyRequest,
): Promise<{ workspaceId: string; keyId: string }> {
  let token: string | undefined;
  const h = request.headers.authorization;
  if (h) {
    const m = /^Basic\s+(\S+)$/i.exec(h);
    if (m?.[1]) token = Buffer.from(m[1], "base64").toString("utf8").split(":")[0];
  }
  if (!token) {
    const body: unknown = request.body;
    if (
      typeof body === "object" &&
      body !== null &&
      "writeKey" in body &&
      typeof body.writeKey === "string"
    ) {
      token = body.writeKey;
    }
  }
  if (!token) {
    throw new AppError(
      "auth.unauthorized",
      "Send the write key as the HTTP Basic user name, or as `writeKey` in the body.",
    );
  }
  const key = await verifyApiKey(request.server.ctx.database.db, token, "write");
  if (!key) throw new AppError("auth.unauthorized", "The write key is unknown or revoked.");
  return { workspaceId: key.workspaceId, keyId: key.keyId };
}

/** Where a request comes from, for sessions and the audit log. */
export function clientOf(request: FastifyRequest): { ip: string; userAgent: string | null } {
  return { ip: request.ip, userAgent: request.headers["user-agent"] ?? null };
}

/** Sets the httpOnly session cookie (secure when the public URL is https). */
export function setSessionCookie(reply: FastifyReply, session: { token: string; expiresAt: Date }): void {
  reply.setCookie(
    SESSION_COOKIE,
    session.token,
    sessionCookieOptions(reply.server.ctx.config.publicUrl, session.expiresAt),
  );
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(reply.server.ctx.config.publicUrl));
}

/**
 * Route config that limits a sign-in endpoint to `RAPPORT_AUTH_RATE_LIMIT` requests a minute
 * per client IP, refusing the rest with `auth.rate_limited` (429) in the usual error format.
 */
export function authRateLimit(config: Pick<Config, "authRateLimit">) {
  return {
    rateLimit: {
      max: config.authRateLimit,
      timeWindow: 60_000,
      // the plugin throws what this returns, so the app's error handler renders it
      errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
        new AppError(
          "auth.rate_limited",
          `Too many sign-in attempts from this address; try again in ${context.after}.`,
        ),
    },
  };
}
