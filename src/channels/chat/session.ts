import { randomUUID } from "node:crypto";
import { z } from "zod";
import { verifyAppUser } from "../../consent/app-identity.ts";
import { getMessagingSettings } from "../../consent/settings.ts";
import { listAvailability } from "../../conversations/assignment.ts";
import type { Db } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { findByIdentifier } from "../../profiles/customers.ts";
import { type IdentityKind, normalizeEmail } from "../../profiles/identifiers.ts";
import { identify } from "../../profiles/identify.ts";
import type { Traits } from "../../profiles/tables.ts";
import { getChatInbox } from "./settings.ts";
import type { Visitor } from "./visitor.ts";
import { AnonymousId, signVisitorToken, VISITOR_TOKEN_TTL_SECONDS, VisitorSource } from "./visitor-token.ts";

/** What the widget sends to start (or resume) a visitor's session. */
export const SessionInput = VisitorSource.extend({
  workspaceId: z.uuid(),
  inboxId: z.uuid(),
  /** The browser's id from an earlier session (or Segment's analytics.js), to stay one visitor. */
  anonymousId: AnonymousId.optional(),
  /** The brand's own id of a signed-in user; trusted only with `userHash`. */
  userId: z.string().trim().min(1).max(512).optional(),
  /** Hex HMAC-SHA256 of `userId` with the inbox's (else the workspace's) identity secret. */
  userHash: z.string().max(128).optional(),
  email: z.string().max(254).optional(),
  name: z.string().trim().min(1).max(120).optional(),
});
export type SessionInput = z.infer<typeof SessionInput>;

export type SessionResult = {
  token: string;
  expiresAt: string;
  anonymousId: string;
  customerId: string;
  /** The visitor proved their user id: their message center and all their chats are theirs to read. */
  verified: boolean;
  /** Whether an agent is online to answer now; when not, the widget offers to continue by email. */
  online: boolean;
  /** Whether Rapport can already reach the visitor by email. */
  emailKnown: boolean;
};

/** Whether any agent of the workspace takes conversations now. */
export async function agentsOnline(db: Db, workspaceId: string): Promise<boolean> {
  return (await listAvailability(db, workspaceId)).some((a) => a.status === "online");
}

/**
 * Starts a widget visitor's session: checks the identity claim, resolves the visitor to one
 * profile (an anonymous id, merged into the brand's user when proven, Segment-style) and
 * answers a signed token. A refused claim (wrong hash; no hash where it is enforced) is
 * `chat.identity_unauthorized` and stores nothing.
 */
export async function startSession(
  db: Db,
  input: SessionInput,
  opts: { defaultCountry: string; nowMs?: number },
): Promise<SessionResult> {
  const chat = await getChatInbox(db, input.workspaceId, input.inboxId);
  const messaging = await getMessagingSettings(db, input.workspaceId);
  const verifiedUserId = checkIdentity(input, chat.settings, messaging.identitySecret);
  // every check happens before the first write
  const email = input.email ? normalizeEmail(input.email) : undefined;
  let anonymousId = input.anonymousId ?? randomUUID();
  if (verifiedUserId && input.anonymousId) {
    // a shared browser whose id already belongs to another account starts afresh
    const owner = await findByIdentifier(db, input.workspaceId, "anonymous_id", anonymousId, "US");
    const ownerUid = owner?.identities.find((i) => i.kind === "user_id")?.value;
    if (ownerUid !== undefined && ownerUid !== verifiedUserId) anonymousId = randomUUID();
  }
  const identifiers: Array<{ kind: IdentityKind; value: string }> = [
    { kind: "anonymous_id", value: anonymousId },
  ];
  if (verifiedUserId) identifiers.push({ kind: "user_id", value: verifiedUserId });
  if (email) identifiers.push({ kind: "email", value: email });
  const traits: Traits = {};
  if (input.name) traits.name = input.name;
  // an unproven user id is shown to agents but joins no account
  if (input.userId && !verifiedUserId) traits.claimed_user_id = input.userId;
  const known =
    identifiers.length === 1 && Object.keys(traits).length === 0
      ? await findByIdentifier(db, input.workspaceId, "anonymous_id", anonymousId, "US")
      : undefined;
  const customerId =
    known?.id ??
    (
      await identify(db, input.workspaceId, {
        identifiers,
        ...(Object.keys(traits).length > 0 ? { traits } : {}),
        reason: "chat.session",
        defaultCountry: opts.defaultCountry,
      })
    ).customerId;
  const customer =
    known ??
    (verifiedUserId
      ? await findByIdentifier(db, input.workspaceId, "user_id", verifiedUserId, "US")
      : await findByIdentifier(db, input.workspaceId, "anonymous_id", anonymousId, "US"));
  const nowMs = opts.nowMs ?? Date.now();
  const exp = Math.floor(nowMs / 1000) + VISITOR_TOKEN_TTL_SECONDS;
  const source = VisitorSource.parse({ pageUrl: input.pageUrl, referrer: input.referrer, utm: input.utm });
  const token = signVisitorToken(messaging.linkSecret, {
    purpose: "chat",
    workspaceId: input.workspaceId,
    inboxId: chat.inbox.id,
    customerId,
    anonymousId,
    ...(verifiedUserId ? { userId: verifiedUserId } : {}),
    ...(Object.values(source).some((v) => v !== undefined) ? { source } : {}),
    exp,
  });
  return {
    token,
    expiresAt: new Date(exp * 1000).toISOString(),
    anonymousId,
    customerId,
    verified: verifiedUserId !== undefined,
    online: await agentsOnline(db, input.workspaceId),
    emailKnown: customer?.identities.some((i) => i.kind === "email") ?? false,
  };
}

/**
 * The user id the visitor proved, or undefined for an anonymous (or merely claimed) one.
 * A hash that does not match is refused in every mode: it is a forgery or a broken backend.
 */
function checkIdentity(
  input: SessionInput,
  settings: { identityVerification: "enforced" | "optional"; identitySecret?: string | undefined },
  workspaceSecret: string,
): string | undefined {
  if (!input.userId) {
    if (input.userHash) {
      throw new AppError("chat.invalid_identity", "userHash was given without the userId it signs.");
    }
    return undefined;
  }
  const secret = settings.identitySecret ?? workspaceSecret;
  if (input.userHash) {
    if (verifyAppUser(secret, input.userId, input.userHash)) return input.userId;
    throw new AppError(
      "chat.identity_unauthorized",
      "userHash does not match userId: compute it on your backend as hex HMAC-SHA256(identity secret, user id).",
    );
  }
  if (settings.identityVerification === "enforced") {
    throw new AppError(
      "chat.identity_unauthorized",
      "This chat inbox enforces identity verification: send userHash, the hex HMAC-SHA256 of userId with the identity secret.",
    );
  }
  return undefined;
}

/**
 * The offline form's answer: the visitor leaves an email so the conversation can go on by
 * email. It is resolved like an inbound email's sender (joining the profile that holds the
 * address), which gives the visitor no access to that profile: their token still reads only
 * what their own browser wrote.
 */
export async function setVisitorEmail(
  db: Db,
  visitor: Visitor,
  rawEmail: string,
  opts: { defaultCountry: string },
): Promise<{ emailKnown: true }> {
  const email = normalizeEmail(rawEmail);
  const primary: { kind: IdentityKind; value: string } = visitor.userId
    ? { kind: "user_id", value: visitor.userId }
    : { kind: "anonymous_id", value: visitor.anonymousId };
  await identify(db, visitor.workspaceId, {
    identifiers: [primary, { kind: "email", value: email }],
    reason: "chat.email",
    defaultCountry: opts.defaultCountry,
  });
  return { emailKnown: true };
}
