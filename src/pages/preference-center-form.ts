import { z } from "zod";
import type { Choice } from "../consent/choices.ts";
import { AppError } from "../errors.ts";
import type { PageModel } from "./preference-center.ts";

/** A form-encoded body: each field once (a string) or repeated (an array). */
export const FormBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
export type FormBody = z.infer<typeof FormBody>;

function all(body: FormBody, name: string): string[] {
  const v = body[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function one(body: FormBody, name: string): string {
  return (all(body, name)[0] ?? "").trim();
}

/** `now` plus a pause choice; months are calendar months (a pause "for 1 month" from 31 Jan ends 3 Mar). */
export function pauseEnd(choice: "1w" | "1m" | "3m", now: Date): Date {
  const d = new Date(now.getTime());
  if (choice === "1w") d.setUTCDate(d.getUTCDate() + 7);
  else d.setUTCMonth(d.getUTCMonth() + (choice === "1m" ? 1 : 3));
  return d;
}

function invalid(field: string, message: string): AppError {
  return new AppError("consent.invalid_preferences", message, { field });
}

/**
 * Turns the posted form into choices. Only cells the page showed (`shown`) and that still
 * exist count, so a topic added meanwhile is not read as "unticked"; an unticked box is a
 * no. Preferences left as shown are not sent; answers are only for questions shown (`asked`).
 */
export function readPreferenceForm(
  body: FormBody,
  model: PageModel,
  now: Date,
): { consent: Choice[]; preferences: Record<string, unknown>; traits: Record<string, unknown> } {
  const ticked = new Set(all(body, "sub"));
  const shown = new Set(all(body, "shown"));
  const consent: Choice[] = [];
  for (const t of model.topics) {
    for (const c of t.cells) {
      const key = `${c.channel}:${t.id}`;
      if (shown.has(key)) consent.push({ topicId: t.id, channel: c.channel, subscribed: ticked.has(key) });
    }
  }

  const preferences: Record<string, unknown> = {};
  const pause = one(body, "pause");
  if (pause === "none") preferences.pausedUntil = null;
  else if (pause === "1w" || pause === "1m" || pause === "3m") preferences.pausedUntil = pauseEnd(pause, now);
  else if (pause !== "" && pause !== "keep") throw invalid("pause", `"${pause}" is not a pause choice.`);

  const start = one(body, "quietStart");
  const end = one(body, "quietEnd");
  if (start === "" && end === "") preferences.quietHours = null;
  else if (start === "" || end === "") {
    throw invalid(
      "quietHours",
      model.lang === "fr" ? "Indiquez les deux heures, ou aucune." : "Give both times, or neither.",
    );
  } else preferences.quietHours = { start: start.slice(0, 5), end: end.slice(0, 5) };

  const timezone = one(body, "timezone");
  if (timezone !== model.timezone) preferences.timezone = timezone === "" ? null : timezone;
  const language = one(body, "language");
  if (language !== "" && language !== model.language) preferences.language = language;

  const traits: Record<string, unknown> = {};
  const asked = new Set(all(body, "asked"));
  for (const q of model.questions) {
    if (!asked.has(q.key)) continue;
    const allowed = new Set(q.options.map((o) => o.value));
    const given = all(body, `q.${q.key}`);
    const unknown = given.find((v) => !allowed.has(v));
    if (unknown !== undefined) throw invalid(q.key, `"${unknown}" is not an answer to “${q.label}”.`);
    // unticking every box removes the answer (a trait set to null is removed)
    if (q.multiple) traits[q.key] = given.length > 0 ? [...new Set(given)] : null;
    else if (given[0] !== undefined) traits[q.key] = given[0];
  }
  return { consent, preferences, traits };
}
