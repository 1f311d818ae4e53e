import { type ConsentStateRow, effectiveConsent, type TopicRule } from "./effective.ts";
import { instantOfLocal, localMinuteOfDay, localParts, parseClock, startOfLocalDay } from "./local-time.ts";
import type { Channel, FrequencyCap, QuietHours } from "./tables.ts";

/** Everything the Gate needs to know, loaded beforehand: the decision itself reads nothing. */
export type GateInput = {
  now: Date;
  topic: TopicRule;
  /** The channel the sender insists on; otherwise the Gate chooses. */
  requestedChannel?: Channel | undefined;
  /** With a requested channel: the one address to use (a reply goes where the customer wrote from). */
  requestedAddress?: string | undefined;
  /** Where the customer can be reached, per channel, best address first. */
  reachable: Partial<Record<Channel, string[]>>;
  /**
   * Addresses that count only when a reply names them (`requestedAddress`), never when the Gate
   * chooses: a chat visitor's browser, reached by its anonymous id on `in_app`.
   */
  replyOnly?: Partial<Record<Channel, string[]>>;
  /** `channel:address` pairs nothing may be sent to. */
  suppressed: ReadonlySet<string>;
  states: readonly ConsentStateRow[];
  /** The customer lives where every marketing topic is opt-in. */
  optInCountry: boolean;
  timezone: string;
  quietHours: QuietHours | null;
  pausedUntil: Date | null;
  /** The customer's channels, preferred first. */
  channelOrder: readonly Channel[];
  /** The workspace's channels to try when the customer has no preference. */
  fallbackOrder: readonly Channel[];
  caps: readonly FrequencyCap[];
  /** Marketing messages that already count toward caps (sent, or on their way). */
  recent: ReadonlyArray<{ channel: Channel; at: Date }>;
};

export type SkipReason = "unreachable" | "suppressed" | "no_consent" | "cap_reached";

export type GateDecision =
  | { action: "send"; channel: Channel; address: string }
  | { action: "defer"; channel: Channel; address: string; until: Date; reason: "quiet_hours" | "paused" }
  | { action: "skip"; reason: SkipReason; channels: Partial<Record<Channel, SkipReason>> };

// how far a channel got before it was ruled out: the skip reason is that of the furthest
const STAGE: Record<SkipReason, number> = { unreachable: 0, suppressed: 1, no_consent: 2, cap_reached: 3 };

/**
 * The Gate: whether, when and on which channel a message may go. Pure: the same input gives
 * the same decision. Transactional topics pass marketing consent, caps, quiet hours and
 * pauses, never a suppression. Channel choice: the requested channel, else the customer's
 * channels in their order, then the workspace's fallback order; the first that is reachable,
 * not suppressed, consented and under its caps wins. Marketing is then deferred past a pause
 * and past quiet hours in the customer's time zone.
 */
export function decide(input: GateInput): GateDecision {
  const marketing = input.topic.kind === "marketing";
  const candidates = input.requestedChannel
    ? [input.requestedChannel]
    : [...new Set([...input.channelOrder, ...input.fallbackOrder])];
  const ruledOut: Partial<Record<Channel, SkipReason>> = {};
  const nowMs = input.now.getTime();
  for (const channel of candidates) {
    const known = input.reachable[channel] ?? [];
    // a requested address counts only if it is one of the customer's own
    const addresses =
      input.requestedAddress !== undefined && input.requestedChannel === channel
        ? [...known, ...(input.replyOnly?.[channel] ?? [])].filter((a) => a === input.requestedAddress)
        : known;
    if (addresses.length === 0) {
      ruledOut[channel] = "unreachable";
      continue;
    }
    const address = addresses.find((a) => !input.suppressed.has(`${channel}:${a}`));
    if (address === undefined) {
      ruledOut[channel] = "suppressed";
      continue;
    }
    if (marketing) {
      if (!effectiveConsent(input.states, input.topic, channel, input.optInCountry).subscribed) {
        ruledOut[channel] = "no_consent";
        continue;
      }
      if (capReached(input, channel, nowMs)) {
        ruledOut[channel] = "cap_reached";
        continue;
      }
      const until = holdUntil(input, nowMs);
      if (until)
        return { action: "defer", channel, address, until: new Date(until.ms), reason: until.reason };
    }
    return { action: "send", channel, address };
  }
  let reason: SkipReason = "unreachable";
  for (const r of Object.values(ruledOut)) if (STAGE[r] > STAGE[reason]) reason = r;
  return { action: "skip", reason, channels: ruledOut };
}

/** Whether a cap on this channel (or on all channels) is already full in its window. */
function capReached(input: GateInput, channel: Channel, nowMs: number): boolean {
  for (const cap of input.caps) {
    if (cap.channel !== "*" && cap.channel !== channel) continue;
    const since = windowStart(cap.window, nowMs, input.timezone);
    let used = 0;
    for (const r of input.recent) {
      if ((cap.channel === "*" || r.channel === channel) && r.at.getTime() >= since) used++;
    }
    if (used >= cap.limit) return true;
  }
  return false;
}

/**
 * The start of a cap's window in the customer's time zone: today since local midnight, or
 * the week of today and the six days before it.
 */
export function windowStart(window: FrequencyCap["window"], nowMs: number, timeZone: string): number {
  return startOfLocalDay(nowMs, timeZone, window === "day" ? 0 : 6);
}

/** When a marketing message must wait: the end of a pause, then of quiet hours. */
function holdUntil(input: GateInput, nowMs: number): { ms: number; reason: "quiet_hours" | "paused" } | null {
  let at = nowMs;
  let reason: "quiet_hours" | "paused" | null = null;
  if (input.pausedUntil && input.pausedUntil.getTime() > at) {
    at = input.pausedUntil.getTime();
    reason = "paused";
  }
  const end = quietHoursEnd(input.quietHours, at, input.timezone);
  if (end !== null) {
    at = end;
    reason ??= "quiet_hours";
  }
  return reason ? { ms: at, reason } : null;
}

/** True when `ms` falls inside the quiet hours, read on the local wall clock. */
export function inQuietHours(quiet: QuietHours | null, ms: number, timeZone: string): boolean {
  const window = quietWindow(quiet);
  if (!window) return false;
  const m = localMinuteOfDay(ms, timeZone);
  return window.start < window.end
    ? m >= window.start && m < window.end
    : m >= window.start || m < window.end;
}

/**
 * The first instant after `ms` at which quiet hours are over, or null when `ms` is outside
 * them. Exact across DST changes (an end time skipped by a change is reached when the gap ends).
 */
export function quietHoursEnd(quiet: QuietHours | null, ms: number, timeZone: string): number | null {
  const window = quietWindow(quiet);
  if (!window || !inQuietHours(quiet, ms, timeZone)) return null;
  const p = localParts(ms, timeZone);
  // the end falls later today, or (past midnight's wrap, or today's end already passed) tomorrow
  const minute = p.hour * 60 + p.minute;
  const today = minute < window.end;
  const day = new Date(Date.UTC(p.year, p.month - 1, p.day + (today ? 0 : 1)));
  const end = instantOfLocal(
    timeZone,
    day.getUTCFullYear(),
    day.getUTCMonth() + 1,
    day.getUTCDate(),
    Math.floor(window.end / 60),
    window.end % 60,
  );
  return end > ms ? end : null;
}

function quietWindow(quiet: QuietHours | null): { start: number; end: number } | null {
  if (!quiet) return null;
  const start = parseClock(quiet.start);
  const end = parseClock(quiet.end);
  if (start === undefined || end === undefined || start === end) return null;
  return { start, end };
}
