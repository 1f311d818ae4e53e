import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors.ts";
import { platformPages } from "../../pages/platform-pages.ts";
import { createAuditedApiKey, revokeAuditedApiKey } from "../../platform/api-key-admin.ts";
import { listApiKeys } from "../../platform/api-keys.ts";
import { listAudit } from "../../platform/audit.ts";
import {
  ApiKeyView,
  AuditEntryView,
  ErrorBody,
  SignedInView,
  UserView,
  WorkspaceView,
} from "../../platform/contracts.ts";
import { LOCALES, ProfilePatch, updateOwnProfile } from "../../platform/me.ts";
import { Role } from "../../platform/roles.ts";
import { revokeSession, SESSION_COOKIE, SESSION_TTL_MS } from "../../platform/sessions.ts";
import { changePassword, signInWithPassword } from "../../platform/sign-in.ts";
import { acceptInvite, getUser, inviteUser, listUsers, updateUser } from "../../platform/users.ts";
import { getWorkspace } from "../../platform/workspaces.ts";
import {
  actorOf,
  authRateLimit,
  clearSessionCookie,
  clientOf,
  type Principal,
  requireAuth,
  setSessionCookie,
} from "../auth.ts";

const MANAGERS: Role[] = ["owner", "admin"];
// every route here also takes the session cookie; add `{ sessionCookie: [] }` once app.ts
// declares that scheme (swagger refuses to build a document naming an undeclared scheme)
const security: Array<Record<string, string[]>> = [{ secretKey: [] }, { sessionCookie: [] }];
const IdParams = z.object({ id: z.uuid("must be a UUID") });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
// the signed-in user also sees their own settings (the language of their screens)
const MeView = z.object({
  user: UserView.extend({ locale: z.enum(LOCALES).nullable() }),
  workspace: WorkspaceView,
  /** Where providers reach this server: the base of every webhook URL an admin pastes elsewhere. */
  publicUrl: z.string(),
});

/** Users, sign-in and sessions, API keys, the audit log and the workspace; plus the sign-in pages. */
export const platformRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config } = app.ctx;
  const db = app.ctx.database.db;
  const limited = authRateLimit(config);
  const workspaceOf = async (p: Principal) => {
    const workspace = await getWorkspace(db, p.workspaceId);
    if (!workspace)
      throw new AppError("auth.unauthorized", "The workspace of these credentials no longer exists.");
    return workspace;
  };

  app.post(
    "/api/v1/auth/login",
    {
      config: limited,
      schema: {
        tags: ["auth"],
        summary: "Sign in with email and password",
        description:
          "Opens a session and sets the httpOnly `rapport_session` cookie. `workspace` (a slug) is only needed when " +
          "the email belongs to several workspaces: `auth.workspace_required` (409) then lists those the password opened. " +
          "A wrong password and an unknown email both answer `auth.invalid_credentials` (401).",
        body: z.object({
          email: z.string().trim().min(1, "is required").max(320),
          password: z.string().min(1, "is required").max(1024),
          workspace: z.string().trim().min(1).max(48).optional(),
        }),
        response: { 200: SignedInView, ...errors, 409: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const signedIn = await signInWithPassword(db, { ...request.body, ...clientOf(request) });
      setSessionCookie(reply, signedIn.session);
      return { user: signedIn.user, workspace: signedIn.workspace };
    },
  );

  app.post(
    "/api/v1/auth/logout",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign out",
        description: "Ends the session of the cookie and clears the cookie. Signing out twice is fine.",
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await revokeSession(db, token);
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "The signed-in user and workspace",
        description:
          "Needs a session cookie (API keys have no user). Also renews the cookie's expiry. " +
          "`user.locale` is the language of the user's screens (null: follow the browser).",
        security,
        response: { 200: MeView, ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      if (p.kind !== "user")
        throw new AppError("auth.forbidden", "An API key has no user; sign in to use /me.");
      const user = await getUser(db, p.workspaceId, p.userId);
      if (!user) throw new AppError("auth.unauthorized", "The user of this session no longer exists.");
      const token = request.cookies[SESSION_COOKIE];
      // sessions slide in the database; the cookie slides here, on the call the web app makes at load
      if (token) setSessionCookie(reply, { token, expiresAt: new Date(Date.now() + SESSION_TTL_MS) });
      return {
        user: { ...user, locale: user.locale ?? null },
        workspace: await workspaceOf(p),
        publicUrl: config.publicUrl,
      };
    },
  );

  app.patch(
    "/api/v1/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "Change your own language or name",
        description:
          `\`locale\` is one of ${LOCALES.join(", ")} or null (follow the browser); anything else is ` +
          "`users.invalid_locale` (400). `name` is 1 to 200 characters (`users.invalid_name`). Needs a session cookie.",
        security,
        body: ProfilePatch,
        response: { 200: MeView, ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      if (p.kind !== "user")
        throw new AppError("auth.forbidden", "An API key has no user; sign in to change your own settings.");
      const user = await updateOwnProfile(db, { ...p, ip: request.ip }, request.body);
      return {
        user: { ...user, locale: user.locale ?? null },
        workspace: await workspaceOf(p),
        publicUrl: config.publicUrl,
      };
    },
  );

  app.post(
    "/api/v1/auth/accept-invite",
    {
      config: limited,
      schema: {
        tags: ["auth"],
        summary: "Accept an invitation",
        description:
          "Sets the invited user's name and password (at least 12 characters), activates them and signs them in " +
          "(session cookie). The token is the `token` parameter of the invitation link, valid 7 days, single use.",
        body: z.object({
          token: z.string().min(1, "is required").max(200),
          name: z.string().trim().min(1, "is required").max(200),
          password: z.string().min(1, "is required").max(1024),
        }),
        response: { 200: SignedInView, ...errors, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const signedIn = await acceptInvite(db, { ...request.body, ...clientOf(request) });
      setSessionCookie(reply, signedIn.session);
      return { user: signedIn.user, workspace: signedIn.workspace };
    },
  );

  app.put(
    "/api/v1/auth/password",
    {
      schema: {
        tags: ["auth"],
        summary: "Change your password",
        description:
          "Sets the signed-in user's password; `currentPassword` is required when one is set. Other sessions end.",
        security,
        body: z.object({
          currentPassword: z.string().max(1024).optional(),
          newPassword: z.string().min(1, "is required").max(1024),
        }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      if (p.kind !== "user")
        throw new AppError("auth.forbidden", "An API key has no password; sign in as the user.");
      await changePassword(db, { ...p, ...request.body, ...clientOf(request) });
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/workspace",
    {
      schema: {
        tags: ["workspace"],
        summary: "The caller's workspace",
        security,
        response: { 200: z.object({ workspace: WorkspaceView }), ...errors },
      },
    },
    async (request) => ({ workspace: await workspaceOf(await requireAuth(request)) }),
  );

  app.get(
    "/api/v1/users",
    {
      schema: {
        tags: ["users"],
        summary: "List the workspace's users",
        description: "Every role may list the team (agents need it to assign conversations).",
        security,
        response: { 200: z.object({ users: z.array(UserView) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      return { users: await listUsers(db, p.workspaceId) };
    },
  );

  app.post(
    "/api/v1/users",
    {
      schema: {
        tags: ["users"],
        summary: "Invite a user",
        description:
          "Creates an `invited` user and returns the invitation link (valid 7 days, single use) to send them. " +
          "Owners and admins only; only owners can invite owners. Inviting an email still `invited` sends a fresh link.",
        security,
        body: z.object({
          email: z.email("must be an email address").max(320),
          role: Role,
          name: z.string().trim().max(200).optional(),
        }),
        response: {
          201: z.object({ user: UserView, inviteUrl: z.url(), expiresAt: z.date() }),
          ...errors,
          409: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const invited = await inviteUser(db, config, {
        workspaceId: p.workspaceId,
        actor: actorOf(p),
        ...request.body,
        ip: request.ip,
      });
      return reply.status(201).send(invited);
    },
  );

  app.get(
    "/api/v1/users/:id",
    {
      schema: {
        tags: ["users"],
        summary: "Get a user",
        security,
        params: IdParams,
        response: { 200: z.object({ user: UserView }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request);
      const user = await getUser(db, p.workspaceId, request.params.id);
      if (!user) throw new AppError("users.not_found", "No user with that id in this workspace.");
      return { user };
    },
  );

  app.patch(
    "/api/v1/users/:id",
    {
      schema: {
        tags: ["users"],
        summary: "Change a user's role, or disable / re-enable them",
        description:
          "Owners and admins only; only owners can make owners or change an owner. Disabling ends the user's " +
          "sessions at once. The last active owner can be neither demoted nor disabled (`users.last_owner`).",
        security,
        params: IdParams,
        body: z
          .object({ role: Role.optional(), disabled: z.boolean().optional() })
          .refine(
            (b) => b.role !== undefined || b.disabled !== undefined,
            "send `role`, `disabled`, or both",
          ),
        response: { 200: z.object({ user: UserView }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const user = await updateUser(db, {
        workspaceId: p.workspaceId,
        actor: actorOf(p),
        userId: request.params.id,
        ...request.body,
        ip: request.ip,
      });
      return { user };
    },
  );

  app.get(
    "/api/v1/api-keys",
    {
      schema: {
        tags: ["api-keys"],
        summary: "List API keys",
        description: "Owners and admins only. Shows each key's hint, never the key.",
        security,
        response: { 200: z.object({ apiKeys: z.array(ApiKeyView) }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      return { apiKeys: await listApiKeys(db, p.workspaceId) };
    },
  );

  app.post(
    "/api/v1/api-keys",
    {
      schema: {
        tags: ["api-keys"],
        summary: "Create an API key",
        description:
          "Owners and admins only. `write` keys send events (`/v1/*`, safe to embed in apps); `secret` keys act on " +
          "the whole workspace through this API. The `token` is shown in this answer only: store it now.",
        security,
        body: z.object({
          kind: z.enum(["write", "secret"]),
          name: z.string().trim().min(1, "is required").max(200),
        }),
        response: { 201: z.object({ apiKey: ApiKeyView, token: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const { key, token } = await createAuditedApiKey(db, {
        workspaceId: p.workspaceId,
        actor: actorOf(p),
        ...request.body,
        ip: request.ip,
      });
      return reply.status(201).send({ apiKey: key, token });
    },
  );

  app.delete(
    "/api/v1/api-keys/:id",
    {
      schema: {
        tags: ["api-keys"],
        summary: "Revoke an API key",
        description: "Owners and admins only. The key stops working on the next request.",
        security,
        params: IdParams,
        response: { 200: z.object({ apiKey: ApiKeyView }), ...errors },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const apiKey = await revokeAuditedApiKey(db, {
        workspaceId: p.workspaceId,
        actor: actorOf(p),
        keyId: request.params.id,
        ip: request.ip,
      });
      return { apiKey };
    },
  );

  app.get(
    "/api/v1/audit-log",
    {
      schema: {
        tags: ["audit"],
        summary: "Read the audit log",
        description:
          "Owners and admins only. Newest first; pass `nextCursor` back as `cursor` for the next page " +
          "(`nextCursor` is null on the last page).",
        security,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.uuid("must be a `nextCursor` from a previous page").optional(),
          action: z.string().max(100).optional(),
        }),
        response: {
          200: z.object({ entries: z.array(AuditEntryView), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const p = await requireAuth(request, { roles: MANAGERS });
      const { limit, cursor, action } = request.query;
      const page = await listAudit(db, p.workspaceId, { limit, before: cursor, action });
      return { entries: page.entries, nextCursor: page.nextCursor ?? null };
    },
  );

  await app.register(platformPages);
};
