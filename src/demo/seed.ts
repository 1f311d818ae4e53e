import { loadConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { createUser } from "../platform/users.ts";
import { createWorkspace, getWorkspaceBySlug, type Workspace } from "../platform/workspaces.ts";
import { normalizePhone } from "../profiles/identifiers.ts";
import { identify } from "../profiles/identify.ts";
import { acceptEvents, foldInbox } from "../profiles/inbox.ts";
import { type DemoPerson, seedConversations } from "./conversations.ts";
import { createDemoInboxes } from "./inboxes.ts";
import { seeded } from "./random.ts";

const FIRST = [
  "Ada",
  "Amara",
  "Chloé",
  "Diego",
  "Elif",
  "Farah",
  "Hugo",
  "Ines",
  "Jonas",
  "Kenji",
  "Léa",
  "Lucas",
  "Maya",
  "Noah",
  "Olivia",
  "Pablo",
  "Priya",
  "Quentin",
  "Rosa",
  "Samir",
  "Sofia",
  "Tariq",
  "Uma",
  "Yara",
  "Zoé",
];
const LAST = [
  "Martin",
  "Bernard",
  "García",
  "Müller",
  "Smith",
  "Okafor",
  "Dubois",
  "Rossi",
  "Nguyen",
  "Kowalski",
  "Silva",
  "Haddad",
  "Jensen",
  "Moreau",
  "Tanaka",
  "Brown",
  "Fernández",
  "Lefèvre",
  "Schmidt",
  "Johnson",
];
const COUNTRIES = [
  {
    code: "US",
    lang: "en",
    cities: ["Austin", "Chicago", "Seattle"],
    phone: () => `+1415555${String(rnd.int(100, 199)).padStart(4, "0")}`,
  },
  {
    code: "FR",
    lang: "fr",
    cities: ["Paris", "Lyon", "Nantes"],
    phone: () => `+336${rnd.int(10_000_000, 99_999_999)}`,
  },
  {
    code: "GB",
    lang: "en",
    cities: ["London", "Leeds", "Bristol"],
    phone: () => `+447700900${rnd.int(100, 999)}`,
  },
  {
    code: "ES",
    lang: "es",
    cities: ["Madrid", "Sevilla", "Valencia"],
    phone: () => `+346${rnd.int(10_000_000, 99_999_999)}`,
  },
] as const;
const SCREENS = ["Home", "Player", "Search", "Library", "Settings"];
const PAGES = ["Home", "Pricing", "Help: Billing", "Help: Offline mode", "Download"];
const TRACKS = [
  "App Opened",
  "Song Played",
  "Playlist Created",
  "Podcast Followed",
  "Support Article Viewed",
];

let rnd = seeded(1);

export type DemoResult = { workspace: Workspace; customers: number; events: number; conversations: number };

/**
 * Loads the demo workspace ("demo"): a music-streaming brand with a few hundred customers
 * known on several channels, their app and web history, a few merges of anonymous visitors
 * and one recorded conflict — through the same ingestion path real traffic takes. Its inboxes
 * (SMS, WhatsApp, email, Messenger, Instagram, chat, X) hold a few dozen conversations, and
 * every reply from them goes to the sandbox outbox.
 */
export async function seedDemo(
  db: Db,
  opts: { customers?: number; now?: Date; publicUrl?: string; slug?: string } = {},
): Promise<DemoResult> {
  const slug = opts.slug ?? "demo";
  if (await getWorkspaceBySlug(db, slug)) {
    throw new AppError("demo.already_exists", "The demo workspace already exists; it is loaded once.");
  }
  rnd = seeded(20261124);
  const workspace = await createWorkspace(db, { name: "Melodia (demo)", slug });
  const ws = workspace.id;
  const now = (opts.now ?? new Date()).getTime();
  const count = opts.customers ?? 300;
  const day = 86_400_000;
  let events = 0;
  let message = 0;
  const send = async (batch: Array<Record<string, unknown>>) => {
    const r = await acceptEvents(
      db,
      ws,
      batch.map((e) => ({ messageId: `demo-${++message}`, ...e })),
      { receivedAt: new Date(now), defaultCountry: "US" },
    );
    events += r.accepted;
  };
  const people: DemoPerson[] = [];
  const socialLater: Array<{
    userId: string;
    social: Array<{ kind: "messenger_psid" | "x_handle" | "instagram_id"; value: string }>;
  }> = [];

  for (let i = 0; i < count; i++) {
    const country = rnd.pick(COUNTRIES);
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    const signup = now - rnd.int(5, 700) * day;
    const anon = `anon-${i}-${rnd.int(1000, 9999)}`;
    const registered = rnd.chance(0.85);
    const userId = `usr_${String(10_000 + i)}`;
    const at = (offsetDays: number) => new Date(signup + offsetDays * day + rnd.int(0, day)).toISOString();
    const batch: Array<Record<string, unknown>> = [
      { type: "page", anonymousId: anon, name: "Home", timestamp: at(-1), context: { locale: country.lang } },
      { type: "page", anonymousId: anon, name: "Pricing", timestamp: at(-1) },
    ];
    if (registered) {
      const email = `${first}.${last}.${i}@example.com`
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .toLowerCase();
      let phone: string | undefined;
      if (rnd.chance(0.6)) {
        try {
          phone = normalizePhone(country.phone(), country.code);
        } catch {
          phone = undefined;
        }
      }
      batch.push({
        type: "identify",
        anonymousId: anon,
        userId,
        timestamp: at(0),
        traits: {
          name: `${first} ${last}`,
          firstName: first,
          lastName: last,
          email,
          ...(phone ? { phone } : {}),
          plan: rnd.pick(["free", "free", "premium", "family", "student"]),
          country: country.code,
          city: rnd.pick(country.cities),
          language: country.lang,
          createdAt: new Date(signup).toISOString(),
        },
      });
      const span = Math.max(1, Math.floor((now - signup) / day));
      for (let k = rnd.int(4, 30); k > 0; k--) {
        const d = rnd.int(0, span);
        const kind = rnd.int(0, 9);
        if (kind < 5)
          batch.push({ type: "track", userId, event: rnd.pick(TRACKS), timestamp: at(d), properties: {} });
        else if (kind < 8) batch.push({ type: "screen", userId, name: rnd.pick(SCREENS), timestamp: at(d) });
        else batch.push({ type: "page", userId, name: rnd.pick(PAGES), timestamp: at(d) });
      }
      if (rnd.chance(0.1))
        batch.push({
          type: "group",
          userId,
          groupId: `family-${i % 12}`,
          traits: { plan: "family" },
          timestamp: at(1),
        });
    }
    await send(batch);
    if (registered) {
      const social: Array<{ kind: "messenger_psid" | "x_handle" | "instagram_id"; value: string }> = [];
      if (rnd.chance(0.2))
        social.push({
          kind: "messenger_psid",
          value: String(rnd.int(1_000_000, 9_999_999)) + String(rnd.int(100_000_000, 999_999_999)),
        });
      if (rnd.chance(0.15))
        social.push({
          kind: "x_handle",
          value: `${first}${last}${i}`
            .normalize("NFKD")
            .replace(/[^A-Za-z0-9]/g, "")
            .slice(0, 15),
        });
      if (rnd.chance(0.1))
        social.push({ kind: "instagram_id", value: String(rnd.int(10_000_000, 99_999_999)) });
      if (social.length > 0) socialLater.push({ userId, social });
      const email = batch.find((e) => e.type === "identify")?.traits;
      if (email && typeof email === "object" && "email" in email && typeof email.email === "string") {
        const phone = "phone" in email && typeof email.phone === "string" ? email.phone : undefined;
        people.push({
          userId,
          name: `${first} ${last}`,
          email: email.email,
          phone,
          psid: social.find((s) => s.kind === "messenger_psid")?.value,
          instagramId: social.find((s) => s.kind === "instagram_id")?.value,
          xHandle: social.find((s) => s.kind === "x_handle")?.value,
        });
      }
    }
  }
  await foldInbox(db, ws, { untilEmpty: true });
  // people who also wrote on social channels: known there by their page-scoped ids and handles
  for (const { userId, social } of socialLater) {
    await identify(db, ws, {
      identifiers: [{ kind: "user_id", value: userId }, ...social],
      reason: "demo",
      defaultCountry: "US",
    });
  }
  // a shared family tablet: a second account signs in on it, which is recorded, not merged
  await send([
    {
      type: "identify",
      anonymousId: "anon-0-shared",
      userId: "usr_10000",
      timestamp: new Date(now - day).toISOString(),
    },
  ]);
  await send([
    {
      type: "identify",
      anonymousId: "anon-0-shared",
      userId: "usr_10001",
      timestamp: new Date(now - day / 2).toISOString(),
    },
  ]);
  await foldInbox(db, ws, { untilEmpty: true });
  const inboxes = await createDemoInboxes(db, ws);
  const agent = await createUser(db, {
    workspaceId: ws,
    email: "noor.support@melodia.example",
    name: "Noor (Melodia support)",
    role: "agent",
    status: "active",
  });
  const conversations = await seedConversations(db, ws, {
    inboxes,
    people,
    agentId: agent.id,
    now,
    publicUrl: opts.publicUrl ?? loadConfig().publicUrl,
  });
  return { workspace, customers: count, events, conversations };
}
