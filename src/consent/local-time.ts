// Wall-clock arithmetic in IANA time zones with nothing but Intl, exact across DST changes.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export type LocalParts = {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
};

/** The wall-clock date and time at `ms` in `timeZone`. */
export function localParts(ms: number, timeZone: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type in out) out[p.type as keyof LocalParts] = Number(p.value);
  }
  return out;
}

/** Minutes since local midnight at `ms` in `timeZone`. */
export function localMinuteOfDay(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return p.hour * 60 + p.minute;
}

/** The zone's offset from UTC at `ms`, in milliseconds (positive east of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The first instant at or after which the wall clock of `timeZone` reads at least the given
 * local date and time: the exact instant when that time exists, the end of the gap when a
 * DST change skips it, the earlier of the two when it happens twice.
 */
export function instantOfLocal(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // two candidates: the wall time read with the offsets in force around it
  const candidates = new Set<number>();
  for (const probe of [wall - 36 * 3600_000, wall, wall + 36 * 3600_000]) {
    candidates.add(wall - offsetAt(probe, timeZone));
  }
  let best: number | undefined;
  for (const c of candidates) {
    const p = localParts(c, timeZone);
    if (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall && (best === undefined || c < best)) {
      best = c;
    }
  }
  if (best !== undefined) return best;
  // the wall time does not exist (a spring-forward gap): the gap's end is the first instant after it
  let lo = wall - 14 * 3600_000 - 2 * 3600_000;
  let hi = wall + 14 * 3600_000 + 2 * 3600_000;
  const reached = (ms: number) => {
    const p = localParts(ms, timeZone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) >= wall;
  };
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2 / 1000) * 1000;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The instant local midnight began `daysBack` days before the local day of `ms`. */
export function startOfLocalDay(ms: number, timeZone: string, daysBack = 0): number {
  const p = localParts(ms, timeZone);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day - daysBack));
  return instantOfLocal(timeZone, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0);
}

/** "21:30" → 1290; undefined for anything else. */
export function parseClock(value: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}
