import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../errors.ts";
import {
  authRateLimit,
  clearSessionCookie,
  clientOf,
  sessionPrincipal,
  setSessionCookie,
} from "../http/auth.ts";
import { statusForCode } from "../http/error-status.ts";
import { revokeSession, SESSION_COOKIE } from "../platform/sessions.ts";
import { redeemSignInLink, signInWithPassword } from "../platform/sign-in.ts";
import { acceptInvite, getUser } from "../platform/users.ts";
import { getWorkspace } from "../platform/workspaces.ts";
import { messagePage } from "./html.ts";
import { homePage, invitePage, loginPage } from "./sign-in-views.ts";

const hidden = { hide: true } as const;
const Token = z.object({ token: z.string().max(200).optional() });
const Next = z.object({ next: z.string().max(2000).optional() });

/**
 * Where a signed-in person goes: a path on this site only, the inbox by default. Browsers read
 * a backslash as a slash and drop tabs and newlines, so such paths could lead to another site.
 */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith("/") || next.startsWith("//")) return "/inbox/";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return /[\\\s\u0000-\u001f\u007f]/.test(next) ? "/inbox/" : next;
}

function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.status(status).type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

/**
 * The small server-rendered pages around signing in: /login, /invite, /auth/link and the
 * home page. Forms post back here and redirect, so they work without JavaScript.
 */
export const platformPages: FastifyPluginAsyncZod = async (app) => {
  const db = app.ctx.database.db;
  const limited = authRateLimit(app.ctx.config);

  // a person followed a link or posted a form: failures answer as a page, not as JSON
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof AppError) {
      const status = statusForCode(err.code);
      if (wantsJson(request))
        return reply.status(status).send({ error: { code: err.code, message: err.message } });
      return sendPage(
        reply,
        status,
        messagePage({
          title: "That did not work",
          message: err.message,
          link: { href: "/login", text: "Go to sign in" },
        }),
      );
    }
    const statusCode =
      typeof err === "object" && err !== null && "statusCode" in err ? Number(err.statusCode) : 500;
    if (statusCode >= 400 && statusCode < 500) {
      return sendPage(
        reply,
        statusCode,
        messagePage({
          title: "That did not work",
          message: "The form was not filled in as expected; please try again.",
          link: { href: "/login", text: "Go to sign in" },
        }),
      );
    }
    request.log.error({ err }, "page failed");
    return sendPage(
      reply,
      500,
      messagePage({
        title: "Something went wrong",
        message: "Something went wrong on our side; please try again in a moment.",
      }),
    );
  });

  app.get("/", { schema: hidden }, async (request, reply) => {
    const p = await sessionPrincipal(request);
    const [user, workspace] = p
      ? await Promise.all([getUser(db, p.workspaceId, p.userId), getWorkspace(db, p.workspaceId)])
      : [undefined, undefined];
    return sendPage(reply, 200, homePage(user && workspace ? { user, workspace } : undefined));
  });

  app.get("/login", { schema: { ...hidden, querystring: Next } }, async (request, reply) => {
    const next = safeNext(request.query.next);
    if (await sessionPrincipal(request)) return reply.redirect(next, 303);
    return sendPage(reply, 200, loginPage({ next }));
  });

  app.post(
    "/login",
    {
      config: limited,
      schema: {
        ...hidden,
        body: z.object({
          email: z.string().default(""),
          password: z.string().default(""),
          workspace: z.string().optional(),
          next: z.string().max(2000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { email, password, workspace } = request.body;
      const next = safeNext(request.body.next);
      try {
        const signedIn = await signInWithPassword(db, {
          email,
          password,
          workspace: workspace || undefined,
          ...clientOf(request),
        });
        setSessionCookie(reply, signedIn.session);
        return reply.redirect(next, 303);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const slugs = z.array(z.string()).safeParse(err.details?.workspaces);
        return sendPage(
          reply,
          statusForCode(err.code),
          loginPage({
            error: err.message,
            email,
            next,
            ...(slugs.success ? { workspaces: slugs.data } : {}),
          }),
        );
      }
    },
  );

  app.post("/logout", { schema: hidden }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await revokeSession(db, token);
    clearSessionCookie(reply);
    return reply.redirect("/login", 303);
  });

  app.get("/invite", { schema: { ...hidden, querystring: Token } }, async (request, reply) => {
    const token = request.query.token;
    if (!token)
      throw new AppError(
        "auth.token_invalid",
        "This invitation link has no token; open the link from the invitation whole.",
      );
    return sendPage(reply, 200, invitePage({ token }));
  });

  app.post(
    "/invite",
    {
      config: limited,
      schema: {
        ...hidden,
        body: z.object({
          token: z.string().default(""),
          name: z.string().default(""),
          password: z.string().default(""),
        }),
      },
    },
    async (request, reply) => {
      const { token, name, password } = request.body;
      if (!name.trim()) return sendPage(reply, 400, invitePage({ token, error: "Enter your name." }));
      try {
        const signedIn = await acceptInvite(db, { token, name, password, ...clientOf(request) });
        setSessionCookie(reply, signedIn.session);
        return reply.redirect("/", 303);
      } catch (err) {
        // a weak password is fixed on the same form; a bad token goes to the error page
        if (err instanceof AppError && err.code === "users.weak_password") {
          return sendPage(reply, 400, invitePage({ token, name, error: err.message }));
        }
        throw err;
      }
    },
  );

  app.get(
    "/auth/link",
    {
      config: limited,
      schema: {
        tags: ["auth"],
        summary: "Use a sign-in link",
        description:
          "Spends a single-use sign-in link (valid 24 hours), sets the session cookie and redirects to `/`. " +
          "A used, expired or altered link answers an error page (or JSON when asked with `Accept: application/json`).",
        querystring: Token,
      },
    },
    async (request, reply) => {
      const token = request.query.token;
      if (!token)
        throw new AppError("auth.token_invalid", "This sign-in link has no token; open the link whole.");
      const signedIn = await redeemSignInLink(db, { token, ...clientOf(request) });
      setSessionCookie(reply, signedIn.session);
      return reply.redirect("/", 303);
    },
  );
};
