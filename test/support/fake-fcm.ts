import { createPublicKey, randomBytes, verify } from "node:crypto";
import { z } from "zod";
import { type FakeAnswer, type RecordedRequest, startRecordingServer } from "./fake-provider-server.ts";

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

const Claims = z.object({
  iss: z.string(),
  scope: z.string(),
  aud: z.string(),
  iat: z.number(),
  exp: z.number(),
});
const Header = z.object({ alg: z.string(), typ: z.string().optional() });

/** FCM HTTP v1 error body, with the FcmError detail Google sends. */
export function fcmError(status: number, rpcStatus: string, message: string, errorCode?: string): FakeAnswer {
  return {
    status,
    body: {
      error: {
        code: status,
        message,
        status: rpcStatus,
        details: errorCode
          ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }]
          : [],
      },
    },
  };
}

function decodePart(part: string | undefined): unknown {
  try {
    return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * A local stand-in for Google's OAuth2 token endpoint (`/token`) and FCM's HTTP v1 send
 * endpoint. The token endpoint verifies the service-account JWT with the account's public
 * key (RS256 signature, issuer, scope, audience, times); sends need a token it issued.
 * Tokens can be revoked (a 401 follows) and device tokens marked unregistered.
 */
export async function startFakeFcm(account: {
  projectId: string;
  clientEmail: string;
  publicKeyPem: string;
  tokenLifetimeS?: number;
}) {
  const publicKey = createPublicKey(account.publicKeyPem);
  const issued = new Set<string>();
  const unregistered = new Set<string>();
  /** Each JWT the token endpoint saw, with whether it verified and why not. */
  const assertions: Array<{ valid: boolean; why?: string; header: unknown; claims: unknown }> = [];
  let url = "";

  function checkAssertion(jwt: string): string | undefined {
    const [h, c, s] = jwt.split(".");
    const header = Header.safeParse(decodePart(h));
    const claims = Claims.safeParse(decodePart(c));
    const entry = { header: decodePart(h), claims: decodePart(c) };
    const fail = (why: string) => {
      assertions.push({ valid: false, why, ...entry });
      return why;
    };
    if (!header.success || header.data.alg !== "RS256") return fail("alg must be RS256");
    if (!s || !verify("sha256", Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, "base64url"))) {
      return fail("bad signature");
    }
    if (!claims.success) return fail("missing claims");
    const now = Math.floor(Date.now() / 1000);
    if (claims.data.iss !== account.clientEmail) return fail("wrong iss");
    if (claims.data.scope !== SCOPE) return fail("wrong scope");
    if (claims.data.aud !== `${url}/token`) return fail("wrong aud");
    if (claims.data.exp <= now || claims.data.iat > now + 60 || claims.data.exp - claims.data.iat > 3600) {
      return fail("bad times");
    }
    assertions.push({ valid: true, ...entry });
    return undefined;
  }

  const server = await startRecordingServer((req: RecordedRequest): FakeAnswer => {
    if (req.method === "POST" && req.path === "/token") {
      const assertion = req.form.assertion;
      if (
        req.form.grant_type !== "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
        typeof assertion !== "string"
      ) {
        return { status: 400, body: { error: "unsupported_grant_type" } };
      }
      const why = checkAssertion(assertion);
      if (why) return { status: 400, body: { error: "invalid_grant", error_description: why } };
      const token = `ya29.${randomBytes(12).toString("hex")}`;
      issued.add(token);
      return {
        status: 200,
        body: { access_token: token, expires_in: account.tokenLifetimeS ?? 3599, token_type: "Bearer" },
      };
    }
    if (req.method === "POST" && req.path === `/v1/projects/${account.projectId}/messages:send`) {
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!bearer || !issued.has(bearer)) {
        return fcmError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
      }
      const parsed = z.object({ message: z.object({ token: z.string() }) }).safeParse(req.json);
      if (!parsed.success) return fcmError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
      if (unregistered.has(parsed.data.message.token)) {
        return fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED");
      }
      return {
        status: 200,
        body: { name: `projects/${account.projectId}/messages/${randomBytes(8).toString("hex")}` },
      };
    }
    return fcmError(404, "NOT_FOUND", "no such endpoint");
  });
  url = server.url;
  return {
    ...server,
    assertions,
    /** Requests to the token endpoint. */
    tokenRequests: () => server.requests.filter((r) => r.path === "/token"),
    /** Requests to the send endpoint. */
    sendRequests: () => server.requests.filter((r) => r.path.endsWith("/messages:send")),
    /** Forgets every issued access token, as when they expire or are revoked: sends get 401. */
    revokeAccessTokens: () => issued.clear(),
    markUnregistered: (deviceToken: string) => unregistered.add(deviceToken),
  };
}

export type FakeFcm = Awaited<ReturnType<typeof startFakeFcm>>;
