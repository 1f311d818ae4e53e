import { z } from "zod";
import { CHANNELS, CONSENT_SOURCES, SUPPRESSION_REASONS } from "../consent/tables.ts";
import { AppError } from "../errors.ts";

// Shapes of the consent API, shared by the REST routes, the domain functions that validate
// the same input when other modules call them, and (later) the web app.

export const Channel = z.enum(CHANNELS);

export const TOPIC_KEY_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TopicKey = z.string().regex(TOPIC_KEY_RE, {
  error: "a topic key is 1-63 lower-case letters, digits and dashes, starting with a letter or digit",
});

const LANGUAGE_TAG_RE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** Text per language, `{ en: "Promotions", fr: "Promotions" }`. */
export const LocalizedText = z
  .record(
    z.string().regex(LANGUAGE_TAG_RE, { error: "languages are tags such as en, fr or pt-BR" }),
    z.string().trim().min(1, { error: "a text may not be empty" }).max(500),
  )
  .refine((r) => Object.keys(r).length <= 50, { error: "at most 50 languages" });

/** Per channel, how a customer who said nothing starts: `opt_out` (subscribed) or `opt_in`. */
export const TopicDefaults = z.record(z.string(), z.enum(["opt_in", "opt_out"])).superRefine((r, ctx) => {
  for (const key of Object.keys(r)) {
    if (!CHANNELS.some((c) => c === key)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `"${key}" is not a channel; channels are ${CHANNELS.join(", ")}`,
      });
    }
  }
});

export const TopicKind = z.enum(["marketing", "transactional"]);

export const TopicInput = z.object({
  key: TopicKey,
  names: LocalizedText,
  descriptions: LocalizedText.optional(),
  kind: TopicKind,
  defaults: TopicDefaults.optional(),
  visible: z.boolean().optional(),
});
export type TopicInput = z.infer<typeof TopicInput>;

export const TopicPatch = z.object({
  names: LocalizedText.optional(),
  descriptions: LocalizedText.optional(),
  kind: TopicKind.optional(),
  defaults: TopicDefaults.optional(),
  visible: z.boolean().optional(),
  /** false brings an archived topic back. */
  archived: z.boolean().optional(),
});
export type TopicPatch = z.infer<typeof TopicPatch>;

export const Topic = z.object({
  id: z.uuid(),
  key: z.string(),
  names: z.record(z.string(), z.string()),
  descriptions: z.record(z.string(), z.string()),
  kind: TopicKind,
  defaults: z.record(z.string(), z.enum(["opt_in", "opt_out"])),
  visible: z.boolean(),
  archivedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Topic = z.infer<typeof Topic>;

export const ConsentStatus = z.enum(["subscribed", "unsubscribed"]);

export const ConsentProof = z.object({
  ip: z.string().max(100).optional(),
  userAgent: z.string().max(1000).optional(),
  deliveryId: z.uuid().optional(),
  messageId: z.string().max(500).optional(),
  keyword: z.string().max(100).optional(),
  actorId: z.string().max(200).optional(),
  note: z.string().max(2000).optional(),
});

export const ConsentChangeRequest = z.object({
  changes: z
    .array(
      z.object({
        channel: Channel,
        topic: TopicKey.nullable().describe("A topic key, or null for every topic of the channel."),
        status: ConsentStatus,
      }),
    )
    .min(1, { error: "give at least one change" })
    .max(100),
  source: z.enum(["api", "agent", "import"]).optional(),
  proof: ConsentProof.omit({ actorId: true }).optional(),
});

export const ConsentEntry = z.object({
  id: z.uuid(),
  customerId: z.uuid(),
  channel: Channel,
  topicId: z.uuid().nullable(),
  /** The topic's key, null for a channel-wide entry. */
  topic: z.string().nullable(),
  status: ConsentStatus,
  source: z.enum(CONSENT_SOURCES),
  proof: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type ConsentEntry = z.infer<typeof ConsentEntry>;

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
export const QuietHours = z
  .object({
    start: z.string().regex(HH_MM, { error: "times are HH:MM, 00:00 to 23:59" }),
    end: z.string().regex(HH_MM, { error: "times are HH:MM, 00:00 to 23:59" }),
  })
  .refine((q) => q.start !== q.end, { error: "quiet hours must start and end at different times" });

export const Preferences = z.object({
  timezone: z.string().nullable(),
  language: z.string().nullable(),
  quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
  pausedUntil: z.string().nullable(),
  channelOrder: z.array(Channel),
  updatedAt: z.string().nullable(),
});
export type Preferences = z.infer<typeof Preferences>;

/** A change of preferences: an absent field is kept, null clears it. */
export const PreferencesPatch = z.object({
  timezone: z.string().max(100).nullable().optional(),
  language: z.string().max(35).nullable().optional(),
  quietHours: z.unknown().optional().describe("{ start: 'HH:MM', end: 'HH:MM' } or null"),
  pausedUntil: z.string().max(40).nullable().optional().describe("ISO time, in the future, within a year"),
  channelOrder: z.array(z.string()).max(20).optional(),
});
export type PreferencesPatch = z.infer<typeof PreferencesPatch>;

export const CellState = z.object({
  subscribed: z.boolean(),
  source: z.enum(["topic", "channel", "default"]),
});

export const Suppression = z.object({
  channel: Channel,
  /** NULL once erased: only the hash is kept. */
  address: z.string().nullable(),
  addressHash: z.string(),
  reason: z.enum(SUPPRESSION_REASONS),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type Suppression = z.infer<typeof Suppression>;

export const SuppressionInput = z.object({
  channel: Channel,
  address: z.string().trim().min(1).max(512),
  reason: z.enum(SUPPRESSION_REASONS).exclude(["erased"]).default("manual"),
  details: z.record(z.string(), z.unknown()).default({}),
});

export const ConsentOverview = z.object({
  customerId: z.uuid(),
  /** ISO country read from traits or the phone number, if any. */
  country: z.string().nullable(),
  optInCountry: z.boolean(),
  /** The time zone and language messages use (preferences, else derived, else the workspace's). */
  timezone: z.string(),
  language: z.string(),
  /** Channels the customer can be reached on (an address, a device, an app user id). */
  reachableChannels: z.array(Channel),
  topics: z.array(
    z.object({
      id: z.uuid(),
      key: z.string(),
      kind: TopicKind,
      names: z.record(z.string(), z.string()),
      descriptions: z.record(z.string(), z.string()),
      visible: z.boolean(),
      channels: z.record(z.string(), CellState),
    }),
  ),
  preferences: Preferences,
  suppressions: z.array(Suppression),
});
export type ConsentOverview = z.infer<typeof ConsentOverview>;

/** What the brand's app sends back: the overview's topics (only `subscribed` is read) and preferences. */
export const AppPreferencesUpdate = z.object({
  topics: z
    .array(
      z.object({
        key: TopicKey,
        channels: z.record(z.string(), z.object({ subscribed: z.boolean() }).loose()),
      }),
    )
    .max(200)
    .optional(),
  preferences: PreferencesPatch.optional(),
});

export const PreferenceQuestion = z.object({
  key: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, {
    error: "a question key is a trait name: a letter, then letters, digits or _ (at most 64)",
  }),
  labels: LocalizedText,
  options: z
    .array(z.object({ value: z.string().trim().min(1).max(100), labels: LocalizedText }))
    .min(1)
    .max(30),
  multiple: z.boolean().default(false),
});

export const FrequencyCap = z.object({
  channel: z.union([Channel, z.literal("*")]),
  window: z.enum(["day", "week"]),
  limit: z.number().int().min(1).max(1000),
});

export const MessagingSettingsView = z.object({
  defaultTimezone: z.string(),
  defaultLanguage: z.string(),
  fallbackOrder: z.array(Channel),
  caps: z.array(FrequencyCap),
  optInCountries: z.array(z.string()),
  defaultQuietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
  questions: z.array(
    z.object({
      key: z.string(),
      labels: z.record(z.string(), z.string()),
      options: z.array(z.object({ value: z.string(), labels: z.record(z.string(), z.string()) })),
      multiple: z.boolean(),
    }),
  ),
  /** Shown so the brand's backend can sign its users' ids (HMAC-SHA256, hex) for the in-app API. */
  identitySecret: z.string(),
  updatedAt: z.string(),
});

export const MessagingSettingsPatch = z.object({
  defaultTimezone: z.string().max(100).optional(),
  defaultLanguage: z.string().max(35).optional(),
  fallbackOrder: z.array(Channel).max(20).optional(),
  caps: z.array(FrequencyCap).max(20).optional(),
  optInCountries: z.array(z.string()).max(300).optional(),
  defaultQuietHours: QuietHours.nullable().optional(),
  questions: z.array(PreferenceQuestion).max(20).optional(),
});
export type MessagingSettingsPatch = z.infer<typeof MessagingSettingsPatch>;

/**
 * Parses `value` with `schema`, or throws `code` naming the first bad field, so domain
 * functions called by other modules refuse bad input as clearly as the routes do.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: string,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join("."),
    message: i.message,
  }));
  const first = issues[0];
  const where = first?.path ? `${first.path}: ` : "";
  throw new AppError(code, `Invalid ${what}: ${where}${first?.message ?? "not valid"}.`, { issues });
}
