import { createHash, createPrivateKey, sign } from "node:crypto";
import { z } from "zod";
import {
  callProvider,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  type HttpAnswer,
  isTransientStatus,
  retryableAnswer,
} from "./http-call.ts";
import type { Provider, SendResult } from "./types.ts";

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

/** A workspace's Firebase service account, as stored in `delivery_providers.config` (kind "fcm"). */
export const FcmConfig = z.object({
  projectId: z.string().min(1),
  baseUrl: z.url().default("https://fcm.googleapis.com"),
  tokenUrl: z.url().default("https://oauth2.googleapis.com/token"),
  clientEmail: z.email(),
  /** The service account's PEM key; `\n` escapes (pasted from the JSON file) are accepted. */
  privateKey: z
    .string()
    .transform((k) => k.replace(/\\n/g, "\n"))
    .refine(isPrivateKey, "must be the service account's PEM private key (-----BEGIN PRIVATE KEY-----…)"),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
});
export type FcmConfig = z.infer<typeof FcmConfig>;

type Failure = Extract<SendResult, { ok: false }>;
type CachedToken = { token: string; refreshAt: number };

// Tokens live an hour and providers may be built per send: cache per service account, per process
const tokenCache = new Map<string, CachedToken>();
const tokenRequests = new Map<string, Promise<CachedToken | Failure>>();

function cacheKey(config: FcmConfig): string {
  return createHash("sha256")
    .update(`${config.tokenUrl}\n${config.clientEmail}\n${config.privateKey}`)
    .digest("hex");
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The signed service-account assertion (RFC 7523) that Google trades for an access token. */
export function serviceAccountJwt(config: FcmConfig, nowMs: number = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const unsigned = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({
    iss: config.clientEmail,
    sub: config.clientEmail,
    scope: FCM_SCOPE,
    aud: config.tokenUrl,
    iat,
    exp: iat + 3600,
  })}`;
  const signature = sign("sha256", Buffer.from(unsigned), createPrivateKey(config.privateKey));
  return `${unsigned}.${signature.toString("base64url")}`;
}

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

async function fetchToken(
  config: FcmConfig,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<CachedToken | Failure> {
  const call = await callProvider(
    config.tokenUrl,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: serviceAccountJwt(config),
      }).toString(),
    },
    signal,
    timeoutMs,
  );
  if (!call.ok) return call.result;
  const { answer } = call;
  const token = TokenAnswer.safeParse(answer.json);
  if (answer.status === 200 && token.success) {
    const lifeMs = token.data.expires_in * 1000;
    // refresh shortly before expiry: 5 minutes early, or halfway for short-lived tokens
    return { token: token.data.access_token, refreshAt: Date.now() + lifeMs - Math.min(300_000, lifeMs / 2) };
  }
  if (isTransientStatus(answer.status)) return retryableAnswer(answer, `fcm_auth_http_${answer.status}`);
  const err = OAuthError.safeParse(answer.json);
  const why = err.success
    ? `${err.data.error}${err.data.error_description ? ` ${err.data.error_description}` : ""}`
    : `${answer.status} ${answer.text.slice(0, 200)}`;
  return { ok: false, retryable: false, reason: `fcm_auth_failed: ${why}` };
}

/** A cached access token, or a fresh one when there is none, it is due, or it is `stale`. */
async function accessToken(
  config: FcmConfig,
  timeoutMs: number,
  stale?: string,
): Promise<CachedToken | Failure> {
  const key = cacheKey(config);
  const cached = tokenCache.get(key);
  if (cached && cached.token !== stale && cached.refreshAt > Date.now()) return cached;
  let pending = tokenRequests.get(key);
  if (!pending) {
    // shared by concurrent sends, so one caller's cancellation must not fail the others
    pending = fetchToken(config, new AbortController().signal, timeoutMs).then((t) => {
      if ("token" in t) tokenCache.set(key, t);
      return t;
    });
    tokenRequests.set(key, pending);
    void pending.finally(() => tokenRequests.delete(key));
  }
  return pending;
}

/** Forgets every cached access token (tests; a rotated service-account key). */
export function forgetFcmTokens(): void {
  tokenCache.clear();
}

const FcmErrorBody = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z
      .array(
        z.looseObject({
          "@type": z.string().optional(),
          errorCode: z.string().optional(),
          fieldViolations: z.array(z.object({ field: z.string().optional() })).optional(),
        }),
      )
      .optional(),
  }),
});

function mapAnswer(answer: HttpAnswer): SendResult {
  if (answer.status === 200) {
    const name = z.object({ name: z.string().min(1) }).safeParse(answer.json);
    if (name.success) return { ok: true, providerMessageId: name.data.name, state: "sent" };
    return { ok: false, retryable: false, reason: "fcm_bad_answer: 200 without a message name" };
  }
  const parsed = FcmErrorBody.safeParse(answer.json);
  const error = parsed.success ? parsed.data.error : undefined;
  const details = error?.details ?? [];
  const code = details.find((d) => d.errorCode)?.errorCode ?? error?.status ?? `HTTP_${answer.status}`;
  const message = error?.message ?? answer.text.slice(0, 200);
  if (isTransientStatus(answer.status)) return retryableAnswer(answer, `fcm_error: ${code} ${message}`);
  const aboutToken =
    details.some((d) => d.fieldViolations?.some((v) => v.field?.endsWith("token"))) ||
    /registration token/i.test(message);
  if (code === "UNREGISTERED" || (code === "INVALID_ARGUMENT" && aboutToken)) {
    return { ok: false, retryable: false, reason: `invalid_token: ${code} ${message}` };
  }
  return { ok: false, retryable: false, reason: `fcm_error: ${code} ${message}` };
}

/**
 * Push through Firebase Cloud Messaging's HTTP v1 API (or anything shaped like it at
 * `baseUrl`), authenticated with a service-account access token. An access token refused
 * with 401 is replaced once and the send tried again.
 */
export function createFcmProvider(config: FcmConfig): Provider {
  const url = `${config.baseUrl.replace(/\/$/, "")}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  return {
    kind: "fcm",
    async send(message, signal) {
      const { title, text, data } = message.content;
      const body = JSON.stringify({
        message: {
          token: message.to,
          notification: { ...(title ? { title } : {}), body: text },
          ...(data && Object.keys(data).length > 0 ? { data } : {}),
        },
      });
      let stale: string | undefined;
      for (let attempt = 0; ; attempt++) {
        const token = await accessToken(config, timeoutMs, stale);
        if (!("token" in token)) return token;
        const call = await callProvider(
          url,
          {
            method: "POST",
            headers: {
              authorization: `Bearer ${token.token}`,
              "content-type": "application/json",
              accept: "application/json",
            },
            body,
          },
          signal,
          timeoutMs,
        );
        if (!call.ok) return call.result;
        if (call.answer.status === 401 && attempt === 0) {
          stale = token.token;
          continue;
        }
        return mapAnswer(call.answer);
      }
    },
  };
}
