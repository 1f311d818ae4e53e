import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveConsent } from "./effective.ts";
import { decide, type GateInput, inQuietHours, quietHoursEnd } from "./gate.ts";
import { CHANNELS, type Channel, type FrequencyCap } from "./tables.ts";

const ZONES = [
  "UTC",
  "Europe/Paris",
  "America/New_York",
  "America/Santiago",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "Pacific/Chatham",
  "Asia/Tehran",
];
const TOPIC = "00000000-0000-7000-8000-000000000001";

function base(over: Partial<GateInput> = {}): GateInput {
  return {
    now: new Date("2026-06-01T12:00:00Z"),
    topic: { id: TOPIC, kind: "marketing", defaults: { email: "opt_out" } },
    reachable: { email: ["ada@example.com"], sms: ["+33612345678"] },
    suppressed: new Set(),
    states: [],
    optInCountry: false,
    timezone: "Europe/Paris",
    quietHours: null,
    pausedUntil: null,
    channelOrder: [],
    fallbackOrder: ["email", "sms"],
    caps: [],
    recent: [],
    ...over,
  };
}

describe("the Gate, by example", () => {
  it("sends marketing on the first consented channel and skips with the furthest reason", () => {
    expect(decide(base())).toEqual({ action: "send", channel: "email", address: "ada@example.com" });
    // sms is opt-in by default: with email suppressed, nothing is consented and reachable
    const d = decide(base({ suppressed: new Set(["email:ada@example.com"]) }));
    expect(d).toEqual({
      action: "skip",
      reason: "no_consent",
      channels: { email: "suppressed", sms: "no_consent" },
    });
    expect(decide(base({ reachable: {} }))).toMatchObject({ action: "skip", reason: "unreachable" });
  });

  it("lets transactional messages past consent, caps, pauses and quiet hours, never past a suppression", () => {
    const t = base({
      topic: { id: TOPIC, kind: "transactional", defaults: {} },
      states: [{ channel: "email", topic: "*", status: "unsubscribed", at: 1 }],
      caps: [{ channel: "*", window: "day", limit: 0 }],
      pausedUntil: new Date("2027-01-01T00:00:00Z"),
      quietHours: { start: "00:00", end: "23:59" },
    });
    expect(decide(t)).toEqual({ action: "send", channel: "email", address: "ada@example.com" });
    expect(
      decide({ ...t, suppressed: new Set(["email:ada@example.com", "sms:+33612345678"]) }),
    ).toMatchObject({ action: "skip", reason: "suppressed" });
  });

  it("honours the requested channel alone", () => {
    expect(decide(base({ requestedChannel: "sms" }))).toMatchObject({ action: "skip", reason: "no_consent" });
    expect(decide(base({ requestedChannel: "push" }))).toMatchObject({
      action: "skip",
      reason: "unreachable",
    });
  });

  it("uses a requested address only if it is the customer's", () => {
    const both = base({
      topic: { id: TOPIC, kind: "transactional", defaults: {} },
      reachable: { sms: ["+33611111111", "+33622222222"] },
      requestedChannel: "sms",
    });
    expect(decide({ ...both, requestedAddress: "+33622222222" })).toMatchObject({ address: "+33622222222" });
    expect(decide({ ...both, requestedAddress: "+33699999999" })).toMatchObject({
      action: "skip",
      reason: "unreachable",
    });
    expect(
      decide({ ...both, requestedAddress: "+33622222222", suppressed: new Set(["sms:+33622222222"]) }),
    ).toMatchObject({ action: "skip", reason: "suppressed" });
  });

  it("reaches a reply-only address (a chat visitor's browser) when a reply names it, never by choice", () => {
    const visitor = base({
      topic: { id: TOPIC, kind: "transactional", defaults: {} },
      reachable: { email: ["ada@example.com"] },
      replyOnly: { in_app: ["anon-7f3a"] },
    });
    expect(decide({ ...visitor, requestedChannel: "in_app", requestedAddress: "anon-7f3a" })).toMatchObject({
      action: "send",
      channel: "in_app",
      address: "anon-7f3a",
    });
    // the Gate choosing a channel never picks it, nor does a reply naming another browser
    expect(decide({ ...visitor, fallbackOrder: ["in_app", "email"] })).toMatchObject({ channel: "email" });
    expect(decide({ ...visitor, requestedChannel: "in_app" })).toMatchObject({
      action: "skip",
      reason: "unreachable",
    });
    expect(decide({ ...visitor, requestedChannel: "in_app", requestedAddress: "anon-0000" })).toMatchObject({
      action: "skip",
      reason: "unreachable",
    });
    expect(
      decide({
        ...visitor,
        requestedChannel: "in_app",
        requestedAddress: "anon-7f3a",
        suppressed: new Set(["in_app:anon-7f3a"]),
      }),
    ).toMatchObject({ action: "skip", reason: "suppressed" });
  });

  it("prefers the customer's order over the workspace's", () => {
    const d = decide(
      base({
        channelOrder: ["sms"],
        states: [{ channel: "sms", topic: TOPIC, status: "subscribed", at: 1 }],
      }),
    );
    expect(d).toEqual({ action: "send", channel: "sms", address: "+33612345678" });
  });

  it("moves on to the next channel when one is capped, and says so when all are", () => {
    const recent = [{ channel: "email" as Channel, at: new Date("2026-06-01T08:00:00Z") }];
    const capped = base({
      caps: [{ channel: "email", window: "day", limit: 1 }],
      recent,
      states: [{ channel: "sms", topic: TOPIC, status: "subscribed", at: 1 }],
    });
    expect(decide(capped)).toMatchObject({ action: "send", channel: "sms" });
    const global = { ...capped, caps: [{ channel: "*" as const, window: "day" as const, limit: 1 }] };
    expect(decide(global)).toMatchObject({ action: "skip", reason: "cap_reached" });
    // yesterday, local time, no longer counts toward today's cap
    const yesterday = [{ channel: "email" as Channel, at: new Date("2026-05-31T21:30:00Z") }];
    expect(decide({ ...global, recent: yesterday })).toMatchObject({ action: "send" });
  });

  it("defers past a pause, then past quiet hours that begin when the pause ends", () => {
    const paused = base({
      pausedUntil: new Date("2026-06-10T20:00:00Z"),
      quietHours: { start: "21:00", end: "08:00" },
    });
    // 20:00Z is 22:00 in Paris (summer): quiet until 08:00 local, 06:00Z the next day
    expect(decide(paused)).toEqual({
      action: "defer",
      channel: "email",
      address: "ada@example.com",
      until: new Date("2026-06-11T06:00:00Z"),
      reason: "paused",
    });
  });

  it("ends quiet hours exactly across DST changes", () => {
    // Paris springs forward on 2026-03-29 at 02:00 → 03:00: an end of 02:30 is reached at 03:00 local
    const spring = quietHoursEnd(
      { start: "22:00", end: "02:30" },
      Date.parse("2026-03-28T23:30:00Z"),
      "Europe/Paris",
    );
    expect(new Date(spring ?? 0).toISOString()).toBe("2026-03-29T01:00:00.000Z");
    // New York falls back on 2026-11-01 at 02:00 → 01:00: 01:30 happens twice, the first counts
    const fall = quietHoursEnd(
      { start: "23:00", end: "01:30" },
      Date.parse("2026-11-01T04:00:00Z"),
      "America/New_York",
    );
    expect(new Date(fall ?? 0).toISOString()).toBe("2026-11-01T05:30:00.000Z");
    // a window not crossing midnight
    const noon = quietHoursEnd(
      { start: "12:00", end: "14:00" },
      Date.parse("2026-06-01T11:00:00Z"),
      "Europe/Paris",
    );
    expect(new Date(noon ?? 0).toISOString()).toBe("2026-06-01T12:00:00.000Z");
  });
});

// ---- properties over random customers, ledgers, topics, caps and clocks ----

const channel = fc.constantFrom(...CHANNELS);
const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
// 2025-2027: covers DST changes everywhere
const instant = fc.integer({
  min: Date.parse("2025-01-01T00:00:00Z"),
  max: Date.parse("2027-12-31T00:00:00Z"),
});
const addressOf = (c: Channel, i: number) => `${c}-address-${i}`;

const gateInput = fc
  .record({
    now: instant,
    kind: fc.constantFrom("marketing", "transactional"),
    defaults: fc.dictionary(channel, fc.constantFrom("opt_in", "opt_out")),
    requested: fc.option(channel, { nil: undefined }),
    reachable: fc.dictionary(channel, fc.integer({ min: 0, max: 2 })),
    suppressedPicks: fc.array(fc.tuple(channel, fc.integer({ min: 0, max: 1 })), { maxLength: 4 }),
    states: fc.array(
      fc.record({
        channel,
        topic: fc.constantFrom(TOPIC, "*", "00000000-0000-7000-8000-000000000099"),
        status: fc.constantFrom("subscribed", "unsubscribed"),
        at: fc.integer({ min: 0, max: 1000 }),
      }),
      { maxLength: 8 },
    ),
    optInCountry: fc.boolean(),
    timezone: fc.constantFrom(...ZONES),
    quiet: fc.option(fc.record({ start: clock, end: clock }), { nil: null }),
    pausedFor: fc.option(fc.integer({ min: -3 * 86_400_000, max: 20 * 86_400_000 }), { nil: null }),
    channelOrder: fc.uniqueArray(channel, { maxLength: 3 }),
    fallbackOrder: fc.uniqueArray(channel, { minLength: 1, maxLength: 5 }),
  })
  .map(
    (r): GateInput => ({
      now: new Date(r.now),
      topic: { id: TOPIC, kind: r.kind, defaults: r.defaults },
      requestedChannel: r.requested,
      reachable: Object.fromEntries(
        Object.entries(r.reachable).map(([c, n]) => [
          c,
          Array.from({ length: n }, (_, i) => addressOf(c as Channel, i)),
        ]),
      ),
      suppressed: new Set(r.suppressedPicks.map(([c, i]) => `${c}:${addressOf(c, i)}`)),
      states: r.states,
      optInCountry: r.optInCountry,
      timezone: r.timezone,
      quietHours: r.quiet,
      pausedUntil: r.pausedFor === null ? null : new Date(r.now + r.pausedFor),
      channelOrder: r.channelOrder,
      fallbackOrder: r.fallbackOrder,
      caps: [],
      recent: [],
    }),
  );

describe("the Gate, by property", () => {
  it("never lets a message reach an opted-out channel × topic, nor a suppressed address", () => {
    fc.assert(
      fc.property(gateInput, (input) => {
        const d = decide(input);
        if (d.action === "skip") return;
        expect(input.suppressed.has(`${d.channel}:${d.address}`)).toBe(false);
        expect(input.reachable[d.channel]).toContain(d.address);
        if (input.requestedChannel) expect(d.channel).toBe(input.requestedChannel);
        if (input.topic.kind === "marketing") {
          expect(effectiveConsent(input.states, input.topic, d.channel, input.optInCountry).subscribed).toBe(
            true,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("sends transactional messages at once whenever an unsuppressed address exists, whatever the consent", () => {
    fc.assert(
      fc.property(gateInput, (raw) => {
        const input: GateInput = { ...raw, topic: { ...raw.topic, kind: "transactional" } };
        const d = decide(input);
        const candidates = input.requestedChannel
          ? [input.requestedChannel]
          : [...new Set([...input.channelOrder, ...input.fallbackOrder])];
        const open = candidates.find((c) =>
          (input.reachable[c] ?? []).some((a) => !input.suppressed.has(`${c}:${a}`)),
        );
        if (open === undefined) expect(d.action).toBe("skip");
        else expect(d).toMatchObject({ action: "send", channel: open });
      }),
      { numRuns: 1000 },
    );
  });

  it("respects quiet hours and pauses across DST: never sends inside them, and defers to their earliest end", () => {
    fc.assert(
      fc.property(gateInput, (raw) => {
        const input: GateInput = { ...raw, topic: { ...raw.topic, kind: "marketing" } };
        const d = decide(input);
        const now = input.now.getTime();
        const held = (ms: number) =>
          inQuietHours(input.quietHours, ms, input.timezone) ||
          (input.pausedUntil !== null && input.pausedUntil.getTime() > ms);
        if (d.action === "send") expect(held(now)).toBe(false);
        if (d.action === "defer") {
          const until = d.until.getTime();
          expect(until).toBeGreaterThan(now);
          expect(held(until)).toBe(false);
          // a minute earlier it was still held: the message waits no longer than it must
          expect(held(until - 60_000)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("never exceeds a cap, counting days on the customer's wall clock", () => {
    const dayOf = (ms: number, tz: string) =>
      new Intl.DateTimeFormat("en-CA", {
        timeZone: tz,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(ms);
    const scenario = fc.record({
      timezone: fc.constantFrom(...ZONES),
      start: instant,
      steps: fc.array(fc.integer({ min: 0, max: 9 * 3600_000 }), { minLength: 1, maxLength: 40 }),
      caps: fc.array(
        fc.record({
          channel: fc.constantFrom<Channel | "*">("*", "email", "sms"),
          window: fc.constantFrom<"day" | "week">("day", "week"),
          limit: fc.integer({ min: 0, max: 4 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(scenario, ({ timezone, start, steps, caps }) => {
        const sent: Array<{ channel: Channel; at: Date }> = [];
        let now = start;
        for (const step of steps) {
          now += step;
          const d = decide(
            base({
              now: new Date(now),
              timezone,
              caps: caps as FrequencyCap[],
              recent: sent,
              states: [{ channel: "sms", topic: "*", status: "subscribed", at: 1 }],
            }),
          );
          if (d.action === "send") sent.push({ channel: d.channel, at: new Date(now) });
        }
        // the oracle: calendar days read with Intl, independent of the Gate's arithmetic
        for (const s of sent) {
          const at = s.at.getTime();
          const days = Array.from({ length: 7 }, (_, k) => dayOf(at - k * 86_400_000, timezone));
          for (const cap of caps) {
            const inWindow = sent.filter((o) => {
              if (o.at.getTime() > at) return false;
              if (cap.channel !== "*" && o.channel !== cap.channel) return false;
              const day = dayOf(o.at.getTime(), timezone);
              return cap.window === "day" ? day === days[0] : days.includes(day);
            });
            if (cap.channel === "*" || cap.channel === s.channel)
              expect(inWindow.length).toBeLessThanOrEqual(cap.limit);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
