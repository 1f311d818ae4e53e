// Where a customer is in their life with the brand, as agents are shown it: the brand's own
// stage when its data names one (a `lifecycle_stage` trait, as CRMs keep it), else who they
// are to us (an anonymous visitor, a contact we can reach, a user of the product) and how
// recently they were seen.

export type Relation = "anonymous" | "contact" | "user";
export type Activity = "new" | "active" | "dormant" | "lapsed";
export type Lifecycle = { stage: string | undefined; relation: Relation; activity: Activity };

const DAY = 86_400_000;
// the traits a brand's own stage is found under, in the spellings Segment sources use
const STAGE_TRAITS = ["lifecycle_stage", "lifecycleStage", "lifecyclestage", "lifecycle"];

export function lifecycleOf(
  customer: {
    traits: Record<string, unknown>;
    identities: ReadonlyArray<{ kind: string }>;
    firstSeenAt: string;
    lastSeenAt: string;
  },
  now: number = Date.now(),
): Lifecycle {
  const named = STAGE_TRAITS.map((k) => customer.traits[k]).find(
    (v): v is string => typeof v === "string" && v.trim() !== "",
  );
  const kinds = new Set(customer.identities.map((i) => i.kind));
  const relation: Relation = kinds.has("user_id")
    ? "user"
    : [...kinds].some((k) => k !== "anonymous_id")
      ? "contact"
      : "anonymous";
  const sinceFirst = now - Date.parse(customer.firstSeenAt);
  const sinceLast = now - Date.parse(customer.lastSeenAt);
  const activity: Activity =
    sinceLast > 90 * DAY
      ? "lapsed"
      : sinceLast > 30 * DAY
        ? "dormant"
        : sinceFirst <= 30 * DAY
          ? "new"
          : "active";
  return { stage: named?.trim().slice(0, 60), relation, activity };
}
