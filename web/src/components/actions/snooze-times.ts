// When a snoozed conversation comes back, in the agent's own time zone.

export type SnoozePreset = "hour" | "tomorrow" | "monday";

/** The moment a preset means, from `now`: in 1 hour, tomorrow at 9:00, next Monday at 9:00. */
export function snoozeUntil(preset: SnoozePreset, now: Date = new Date()): Date {
  if (preset === "hour") return new Date(now.getTime() + 3_600_000);
  const d = new Date(now);
  d.setHours(9, 0, 0, 0);
  if (preset === "tomorrow") d.setDate(d.getDate() + 1);
  // next Monday: never today, even on a Monday morning
  else d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
  return d;
}

/** A `datetime-local` input's value for a date (local time, to the minute). */
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value read as local time; undefined when it is not a date. */
export function fromLocalInput(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
