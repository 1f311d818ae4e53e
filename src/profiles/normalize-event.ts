import { type EventType, MAX_EVENT_BYTES, SegmentEvent } from "../contracts/segment.ts";
import { AppError, isAppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { type Identifier, normalizeIdentifier } from "./identifiers.ts";
import type { Traits } from "./tables.ts";

/** An incoming event after validation, clock correction and identifier normalisation. */
export type NormalizedEvent = {
  type: EventType;
  messageId: string;
  userId: string | null;
  anonymousId: string | null;
  name: string | null;
  properties: Record<string, unknown>;
  traits: Traits | null;
  context: Record<string, unknown>;
  timestamp: Date;
  sentAt: Date | null;
  receivedAt: Date;
  /** Identifiers the event proves belong to its sender. */
  identifiers: Identifier[];
  /** Identifiers the event only points at (alias's previous user id). */
  lookupOnly: Identifier[];
  groupId: string | null;
};

export type NormalizeContext = {
  receivedAt: Date;
  /** `sentAt` of the enclosing batch, for events that carry none of their own. */
  batchSentAt?: Date | undefined;
  defaultCountry: string;
};

export type NormalizeResult =
  | { ok: true; event: NormalizedEvent }
  | { ok: false; code: string; message: string };

/**
 * Validates one raw Segment event and turns it into what we store. Timestamps are corrected
 * for the sender's clock as Segment does: `timestamp = receivedAt - (sentAt - timestamp)`.
 */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): NormalizeResult {
  const bytes = Buffer.byteLength(JSON.stringify(raw) ?? "", "utf8");
  if (bytes > MAX_EVENT_BYTES) {
    return {
      ok: false,
      code: "ingest.event_too_large",
      message: `An event may be at most 32 KB; this one is ${Math.ceil(bytes / 1024)} KB.`,
    };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, code: "ingest.invalid_event", message: "Each event must be a JSON object." };
  }
  const type = "type" in raw ? raw.type : undefined;
  if (typeof type !== "string" || !["identify", "track", "page", "screen", "group", "alias"].includes(type)) {
    return {
      ok: false,
      code: "ingest.unknown_type",
      message: `Unknown event type ${JSON.stringify(type ?? null)}; use identify, track, page, screen, group or alias.`,
    };
  }
  let e = quickParse(raw);
  if (e === undefined) {
    const parsed = SegmentEvent.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join(".") || "event";
      return {
        ok: false,
        code: "ingest.invalid_event",
        message: `${path}: ${issue?.message ?? "is invalid"}`,
      };
    }
    e = parsed.data;
  }
  if (!e.userId && !e.anonymousId) {
    return { ok: false, code: "ingest.missing_id", message: "Every event needs a userId or an anonymousId." };
  }
  try {
    const identifiers: Identifier[] = [];
    const country = ctx.defaultCountry;
    if (e.userId) identifiers.push({ kind: "user_id", value: e.userId });
    if (e.anonymousId) identifiers.push(normalizeIdentifier("anonymous_id", e.anonymousId, country));
    let traits: Traits | null = null;
    if (e.type === "identify") {
      traits = e.traits ?? {};
      const email = traits.email;
      const phone = traits.phone;
      if (email !== undefined && email !== null) {
        if (typeof email !== "string")
          throw new AppError("profiles.invalid_email", "traits.email must be a string.");
        const n = normalizeIdentifier("email", email, country);
        identifiers.push(n);
        traits = { ...traits, email: n.value };
      }
      if (phone !== undefined && phone !== null) {
        if (typeof phone !== "string")
          throw new AppError("profiles.invalid_phone", "traits.phone must be a string.");
        const n = normalizeIdentifier("phone", phone, country);
        identifiers.push(n);
        traits = { ...traits, phone: n.value };
      }
    }
    // taken as an anonymous id here; the fold turns it into a lookup if it is a known user id
    if (e.type === "alias") identifiers.push(normalizeIdentifier("anonymous_id", e.previousId, country));
    const sentAt = e.sentAt ?? ctx.batchSentAt ?? null;
    const original = e.timestamp ?? e.originalTimestamp;
    const receivedMs = ctx.receivedAt.getTime();
    let ms = original ? original.getTime() : receivedMs;
    if (original && sentAt) ms = receivedMs - (sentAt.getTime() - original.getTime());
    const name =
      e.type === "track" ? e.event : e.type === "page" || e.type === "screen" ? (e.name ?? null) : null;
    const properties: Record<string, unknown> =
      e.type === "track" || e.type === "page" || e.type === "screen"
        ? "category" in e && e.category
          ? { ...e.properties, category: e.category }
          : (e.properties ?? {})
        : e.type === "alias"
          ? { previousId: e.previousId }
          : e.type === "group"
            ? { groupId: e.groupId }
            : {};
    return {
      ok: true,
      event: {
        type: e.type,
        messageId: e.messageId ?? `rapport-${uuidv7()}`,
        userId: e.userId ?? null,
        anonymousId: e.anonymousId ?? null,
        name,
        properties,
        traits: e.type === "group" ? (e.traits ?? {}) : traits,
        context: e.context ?? {},
        timestamp: new Date(ms),
        sentAt,
        receivedAt: ctx.receivedAt,
        identifiers,
        lookupOnly: [],
        groupId: e.type === "group" ? e.groupId : null,
      },
    };
  } catch (err) {
    if (isAppError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/**
 * `raw` as `SegmentEvent.safeParse` reads it, for the shapes nearly every event has (a track,
 * page, screen or identify with string ids, ISO timestamps and plain objects), or undefined to
 * let the schema decide and say what is wrong. Several times cheaper than the schema, which
 * matters at thousands of events a second; `normalize-event.test.ts` holds the two to the same
 * answers.
 */
export function quickParse(raw: object): SegmentEvent | undefined {
  const r = raw as Record<string, unknown>;
  const { messageId, context } = r;
  if (messageId !== undefined && !isText(messageId, 1, 200)) return undefined;
  if (context !== undefined && !isDict(context)) return undefined;
  const userId = quickId(r.userId);
  const anonymousId = quickId(r.anonymousId);
  const timestamp = quickTime(r.timestamp);
  const originalTimestamp = quickTime(r.originalTimestamp);
  const sentAt = quickTime(r.sentAt);
  if (userId === BAD || anonymousId === BAD) return undefined;
  if (timestamp === BAD || originalTimestamp === BAD || sentAt === BAD) return undefined;
  const properties = r.properties;
  // one object literal per type, not a spread of the common fields: this runs for every event,
  // and a spread here made reading an event several times slower than the schema itself
  switch (r.type) {
    case "track": {
      const event = r.event;
      if (!isText(event, 1, 200)) return undefined;
      if (properties !== undefined && !isDict(properties)) return undefined;
      return {
        type: "track",
        messageId,
        userId,
        anonymousId,
        timestamp,
        originalTimestamp,
        sentAt,
        context,
        event,
        properties,
      };
    }
    case "page":
    case "screen": {
      const { name, category } = r;
      if (!isShortTextOrNull(name) || !isShortTextOrNull(category)) return undefined;
      if (properties !== undefined && !isDict(properties)) return undefined;
      const type = r.type;
      return {
        type,
        messageId,
        userId,
        anonymousId,
        timestamp,
        originalTimestamp,
        sentAt,
        context,
        name,
        category,
        properties,
      };
    }
    case "identify": {
      const traits = r.traits;
      if (traits !== undefined && !isDict(traits)) return undefined;
      return {
        type: "identify",
        messageId,
        userId,
        anonymousId,
        timestamp,
        originalTimestamp,
        sentAt,
        context,
        traits,
      };
    }
    default:
      return undefined;
  }
}

const BAD = Symbol("not for the quick path");

/** A string id as `IdValue.nullish()` reads it (numbers are left to the schema). */
function quickId(v: unknown): string | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  if (typeof v !== "string") return BAD;
  const t = v.trim();
  return t.length >= 1 && t.length <= 512 ? t : BAD;
}

const ISO_START = /^\d{4}-\d{2}-\d{2}/;

/** A timestamp as `Timestamp.optional()` reads it. */
function quickTime(v: unknown): Date | undefined | typeof BAD {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !ISO_START.test(v)) return BAD;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? new Date(ms) : BAD;
}

/** What `z.record(z.string(), z.unknown())` takes, as JSON gives it: a plain object. */
function isDict(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === "object" &&
    v !== null &&
    Object.getPrototypeOf(v) === Object.prototype &&
    !Object.hasOwn(v, "constructor")
  );
}

function isText(v: unknown, min: number, max: number): v is string {
  return typeof v === "string" && v.length >= min && v.length <= max;
}

function isShortTextOrNull(v: unknown): v is string | null | undefined {
  return v === undefined || v === null || isText(v, 0, 200);
}

/** A normalised event as the inbox keeps it: JSON-safe, with dates as ISO strings. */
export type StoredEvent = Omit<NormalizedEvent, "timestamp" | "sentAt" | "receivedAt" | "lookupOnly"> & {
  timestamp: string;
  sentAt: string | null;
  receivedAt: string;
  /** alias's previousId: a user id or an anonymous id, which only the fold can tell. */
  previousId: string | null;
};

/** Keeps a validated event for the fold, so folding needs no second validation. */
export function toStored(e: NormalizedEvent): StoredEvent {
  const { lookupOnly: _unknownYet, ...rest } = e;
  return {
    ...rest,
    timestamp: e.timestamp.toISOString(),
    sentAt: e.sentAt?.toISOString() ?? null,
    receivedAt: e.receivedAt.toISOString(),
    previousId:
      e.type === "alias" && typeof e.properties.previousId === "string" ? e.properties.previousId : null,
  };
}

/**
 * Turns a stored event back into a normalised one. An alias whose previousId is a known user
 * id now points at that user (lookup only) instead of claiming it as an anonymous id.
 */
export function fromStored(s: StoredEvent, isKnownUserId: (value: string) => boolean): NormalizedEvent {
  const { previousId, ...rest } = s;
  let identifiers = s.identifiers;
  const lookupOnly: Identifier[] = [];
  if (previousId !== null && isKnownUserId(previousId)) {
    lookupOnly.push({ kind: "user_id", value: previousId });
    if (s.anonymousId !== previousId) {
      identifiers = identifiers.filter((i) => !(i.kind === "anonymous_id" && i.value === previousId));
    }
  }
  return {
    ...rest,
    identifiers,
    lookupOnly,
    timestamp: new Date(s.timestamp),
    sentAt: s.sentAt ? new Date(s.sentAt) : null,
    receivedAt: new Date(s.receivedAt),
  };
}
