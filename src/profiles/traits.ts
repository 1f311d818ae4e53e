import type { Traits, TraitTimes } from "./tables.ts";

export type TraitState = { traits: Traits; times: TraitTimes };

/**
 * Applies incoming traits observed at `at` (Segment semantics: a shallow merge by top-level
 * key). A key is written only if no newer value is already held, so a late, older event never
 * overwrites a newer one; `null` removes a trait, under the same rule.
 */
export function applyTraits(
  state: TraitState,
  incoming: Traits,
  at: Date,
): TraitState & { changed: boolean } {
  const traits: Traits = { ...state.traits };
  const times: TraitTimes = { ...state.times };
  const iso = at.toISOString();
  let changed = false;
  for (const [key, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const held = times[key];
    if (held !== undefined && held > iso) continue;
    if (value === null) {
      if (key in traits) changed = true;
      delete traits[key];
    } else {
      if (JSON.stringify(traits[key]) !== JSON.stringify(value)) changed = true;
      traits[key] = value;
    }
    if (times[key] !== iso) changed = true;
    times[key] = iso;
  }
  return { traits, times, changed };
}

/** Combines two customers' traits key by key, the newer value of each key winning. */
export function combineTraits(a: TraitState, b: TraitState): TraitState {
  const traits: Traits = { ...a.traits };
  const times: TraitTimes = { ...a.times };
  for (const [key, value] of Object.entries(b.traits)) {
    const tb = b.times[key] ?? "";
    const ta = times[key];
    if (ta === undefined || tb > ta || !(key in traits)) {
      traits[key] = value;
      if (tb) times[key] = tb;
    }
  }
  return { traits, times };
}
