import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { verifyAppUser } from "../../consent/app-identity.ts";
import { appOverview, saveAppPreferences, saveChoices } from "../../consent/choices.ts";
import type { LinkClaims } from "../../consent/link-tokens.ts";
import {
  checkLinkToken,
  sendFreshPreferenceLink,
  unsubscribeByLink,
} from "../../consent/preference-links.ts";
import { getMessagingSettings, type MessagingSettings } from "../../consent/settings.ts";
import { listTopics } from "../../consent/topics.ts";
import { AppPreferencesUpdate, ConsentOverview } from "../../contracts/consent.ts";
import { AppError, isAppError } from "../../errors.ts";
import { loadPageModel, preferencePage } from "../../pages/preference-center.ts";
import { FormBody, readPreferenceForm } from "../../pages/preference-center-form.ts";
import {
  invalidLinkPage,
  linkSentPage,
  noticePage,
  unsubscribedPage,
  unsubscribePage,
} from "../../pages/preference-center-shell.ts";
import { localized, type PageLang, pickLanguage, STRINGS } from "../../pages/preference-center-strings.ts";
import { getWorkspace } from "../../platform/workspaces.ts";
import { findByIdentifier } from "../../profiles/customers.ts";
import { authRateLimit, requireWriteKey } from "../auth.ts";
import { toErrorResponse } from "../error-response.ts";

const hidden = { hide: true } as const;
// wildcards, not `:token`: a signed token is longer than the router's 100-character limit on parameters
const TokenParams = z.object({ "*": z.string().max(4000) });

function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.status(status).type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);
}

function browserLang(request: FastifyRequest): PageLang {
  return pickLanguage(undefined, request.headers["accept-language"], undefined);
}

function proofOf(request: FastifyRequest): { ip: string; userAgent?: string } {
  const ua = request.headers["user-agent"];
  return { ip: request.ip, ...(ua ? { userAgent: ua.slice(0, 1000) } : {}) };
}

const renewPath = (token: string) => `/preferences/renew/${encodeURIComponent(token)}`;
const pagePath = (token: string) => `/preferences/${encodeURIComponent(token)}`;
const unsubscribePath = (token: string) => `/unsubscribe/${encodeURIComponent(token)}`;

// RFC 8058 lets the one-click POST come as multipart/form-data; its one field is read here
function parseMultipart(body: string, contentType: string): Record<string, string> | string {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return body;
  const out: Record<string, string> = {};
  for (const part of body.split(`--${b}`)) {
    const at = part.search(/\r?\n\r?\n/);
    if (at < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, at))?.[1];
    if (name)
      out[name] = part
        .slice(at)
        .replace(/^\r?\n\r?\n/, "")
        .replace(/\r?\n$/, "");
  }
  return out;
}

function isOneClickBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const entries = Object.entries(body);
  return entries.length === 1 && entries[0]?.[0] === "List-Unsubscribe" && entries[0]?.[1] === "One-Click";
}

/**
 * The public preference center (no account, no cookies: the signed link is the key), the
 * RFC 8058 one-click unsubscribe, and the in-app preference API for the brand's app.
 */
export const preferenceCenterRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  const config = () => app.ctx.config;

  app.addContentTypeParser(
    "multipart/form-data",
    { parseAs: "string", bodyLimit: 16_384 },
    (request, body, done) => {
      done(null, parseMultipart(String(body), request.headers["content-type"] ?? ""));
    },
  );
  // any other body reaches the handlers as text, so a wrong one-click body is a clear 400
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, String(body));
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorResponse(err);
    const finalStatus = isAppError(err, "consent.invalid_user_hash") ? 401 : status;
    if (finalStatus >= 500) request.log.error({ err }, "preference center failed");
    if (request.url.startsWith("/api/") || !(request.headers.accept ?? "").includes("text/html")) {
      return reply.status(finalStatus).send(body);
    }
    const lang = browserLang(request);
    return sendPage(
      reply,
      finalStatus,
      noticePage({
        lang,
        title: STRINGS[lang].errorTitle,
        message:
          finalStatus >= 500
            ? "Something went wrong on our side; please try again in a moment."
            : body.error.message,
        role: "alert",
      }),
    );
  });

  /** The token's claims, or a 403 page offering a fresh link (nothing else happens). */
  async function verified(
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    purposes: ReadonlyArray<LinkClaims["purpose"]>,
  ): Promise<{ claims: LinkClaims; settings: MessagingSettings } | undefined> {
    const check = await checkLinkToken(db(), token);
    if (check.ok && purposes.includes(check.claims.purpose)) return check;
    const lang = pickLanguage(
      undefined,
      request.headers["accept-language"],
      check.ok ? check.settings.defaultLanguage : undefined,
    );
    await sendPage(reply, 403, invalidLinkPage(lang, renewPath(token)));
    return undefined;
  }

  app.get("/preferences/*", { schema: { ...hidden, params: TokenParams } }, async (request, reply) => {
    const token = request.params["*"];
    const ok = await verified(request, reply, token, ["p", "u"]);
    if (!ok) return reply;
    const model = await loadPageModel(db(), ok.claims.workspaceId, ok.claims.customerId, {
      action: pagePath(token),
      acceptLanguage: request.headers["accept-language"],
    });
    return sendPage(reply, 200, preferencePage(model));
  });

  app.post(
    "/preferences/*",
    { schema: { ...hidden, params: TokenParams, body: FormBody } },
    async (request, reply) => {
      const token = request.params["*"];
      const ok = await verified(request, reply, token, ["p", "u"]);
      if (!ok) return reply;
      const { workspaceId, customerId, deliveryId } = ok.claims;
      const opts = { action: pagePath(token), acceptLanguage: request.headers["accept-language"] };
      const before = await loadPageModel(db(), workspaceId, customerId, opts);
      const now = new Date();
      try {
        const form = readPreferenceForm(request.body, before, now);
        const saved = await saveChoices(db(), workspaceId, customerId, form, "preference_center", {
          ...proofOf(request),
          ...(deliveryId ? { deliveryId } : {}),
        });
        const after = await loadPageModel(db(), workspaceId, customerId, opts);
        const changed =
          saved.recorded.length + saved.preferencesChanged.length + saved.traitsChanged.length > 0;
        const s = STRINGS[after.lang];
        return sendPage(
          reply,
          200,
          preferencePage({ ...after, notice: changed ? s.saved : s.unchanged }, now),
        );
      } catch (err) {
        if (!isAppError(err, "consent.invalid_preferences")) throw err;
        return sendPage(reply, 400, preferencePage({ ...before, error: err.message }, now));
      }
    },
  );

  app.post(
    "/preferences/renew/*",
    {
      config: authRateLimit(config()),
      schema: { ...hidden, params: TokenParams, body: FormBody.optional() },
    },
    async (request, reply) => {
      const lang = browserLang(request);
      const check = await checkLinkToken(db(), request.params["*"]);
      const workspaceId = check.ok ? check.claims.workspaceId : check.workspaceId;
      const email = request.body?.email;
      if (workspaceId && typeof email === "string" && email.trim() !== "") {
        try {
          await sendFreshPreferenceLink(db(), workspaceId, {
            email,
            publicUrl: config().publicUrl,
            defaultCountry: config().defaultCountry,
            language: lang,
          });
        } catch (err) {
          // the answer must not depend on the address: log, and say the same as always
          request.log.error({ err }, "could not send a fresh preference link");
        }
      }
      return sendPage(reply, 200, linkSentPage(lang));
    },
  );

  /** What an unsubscribe link stops, in words: "“Promotions” by email". */
  async function describe(claims: LinkClaims, lang: PageLang): Promise<string> {
    const s = STRINGS[lang];
    const channel = claims.channel ? s.channels[claims.channel] : undefined;
    const topic = claims.topicId
      ? (await listTopics(db(), claims.workspaceId, { includeArchived: true })).find(
          (t) => t.id === claims.topicId,
        )
      : undefined;
    const name = topic ? localized(topic.names, lang, topic.key) : undefined;
    if (name && channel) return s.topicOn(name, channel);
    if (name) return s.topicAnywhere(name);
    if (channel) return s.channelAll(channel);
    return s.allMessages;
  }

  async function pageContext(claims: LinkClaims, settings: MessagingSettings, request: FastifyRequest) {
    const lang = pickLanguage(undefined, request.headers["accept-language"], settings.defaultLanguage);
    const workspace = await getWorkspace(db(), claims.workspaceId);
    return { lang, brand: workspace?.name ?? "", what: await describe(claims, lang) };
  }

  app.get("/unsubscribe/*", { schema: { ...hidden, params: TokenParams } }, async (request, reply) => {
    const token = request.params["*"];
    const ok = await verified(request, reply, token, ["u"]);
    if (!ok) return reply;
    const ctx = await pageContext(ok.claims, ok.settings, request);
    return sendPage(
      reply,
      200,
      unsubscribePage({ ...ctx, action: unsubscribePath(token), manageHref: pagePath(token) }),
    );
  });

  app.post("/unsubscribe/*", { schema: { ...hidden, params: TokenParams } }, async (request, reply) => {
    const token = request.params["*"];
    const ok = await verified(request, reply, token, ["u"]);
    if (!ok) return reply;
    if (!isOneClickBody(request.body)) {
      throw new AppError(
        "consent.invalid_one_click",
        "A one-click unsubscribe is a POST whose form body is exactly List-Unsubscribe=One-Click (RFC 8058).",
      );
    }
    await unsubscribeByLink(db(), ok.claims, proofOf(request));
    if ((request.headers.accept ?? "").includes("text/html")) {
      const ctx = await pageContext(ok.claims, ok.settings, request);
      return sendPage(reply, 200, unsubscribedPage({ ...ctx, manageHref: pagePath(token) }));
    }
    return reply.status(200).type("text/plain; charset=utf-8").send("Unsubscribed.\n");
  });

  const appSchema = {
    tags: ["app"],
    security: [{ writeKey: [] }],
    headers: z.object({
      "x-rapport-user-id": z.string().max(512).optional(),
      "x-rapport-user-hash": z.string().max(200).optional(),
    }),
  };

  /** The customer behind a verified app user: write key, user id and its HMAC from the brand's backend. */
  async function appCustomer(request: FastifyRequest): Promise<{ workspaceId: string; customerId: string }> {
    const { workspaceId } = await requireWriteKey(request);
    const userId = request.headers["x-rapport-user-id"];
    const hash = request.headers["x-rapport-user-hash"];
    const settings = await getMessagingSettings(db(), workspaceId);
    if (
      typeof userId !== "string" ||
      typeof hash !== "string" ||
      !verifyAppUser(settings.identitySecret, userId, hash)
    ) {
      throw new AppError(
        "consent.invalid_user_hash",
        "Send X-Rapport-User-Id and X-Rapport-User-Hash: the hex HMAC-SHA256 of the user id with the workspace's identity secret.",
      );
    }
    const customer = await findByIdentifier(db(), workspaceId, "user_id", userId, config().defaultCountry);
    if (!customer) {
      throw new AppError(
        "consent.customer_not_found",
        "No customer holds this user id yet; identify the user first.",
      );
    }
    return { workspaceId, customerId: customer.id };
  }

  app.get(
    "/api/v1/app/preferences",
    {
      schema: {
        ...appSchema,
        summary: "The app user's consent and preferences",
        description:
          "For the brand's app: the write key as the Basic user name, plus the user id and its HMAC (see the messaging settings' identity secret).",
        response: { 200: ConsentOverview },
      },
    },
    async (request) => {
      const who = await appCustomer(request);
      return appOverview(db(), who.workspaceId, who.customerId);
    },
  );

  app.put(
    "/api/v1/app/preferences",
    {
      schema: {
        ...appSchema,
        summary: "Change the app user's consent and preferences",
        description:
          "Send back the overview's topics (`subscribed` per channel) and preferences; only changes are recorded.",
        body: AppPreferencesUpdate,
        response: { 200: ConsentOverview },
      },
    },
    async (request) => {
      const who = await appCustomer(request);
      return saveAppPreferences(db(), who.workspaceId, who.customerId, request.body, proofOf(request));
    },
  );
};
