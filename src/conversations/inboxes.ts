import { sql } from "drizzle-orm";
import { z } from "zod";
import { prepareApiInboxConfig } from "../channels/api/config.ts";
import { ChatConfig } from "../channels/chat/settings.ts";
import { EmailInboxConfig } from "../channels/email/reply-to.ts";
import { MetaInboxConfig } from "../channels/meta/config.ts";
import { TwilioInboxConfig } from "../channels/twilio/config.ts";
import { VoiceInboxConfig } from "../channels/twilio/voice-config.ts";
import { XInboxConfig } from "../channels/x/config.ts";
import { CHANNELS, type Channel } from "../consent/tables.ts";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { INBOX_KINDS, type InboxKind } from "./tables.ts";

export type Inbox = {
  id: string;
  kind: InboxKind;
  name: string;
  channel: Channel | null;
  address: string | null;
  config: Record<string, unknown>;
  assignment: "manual" | "round_robin" | "least_loaded";
  teamId: string | null;
  createdAt: string;
  updatedAt: string;
};

// the channel replies go out on, for each kind that has one
const REPLY_CHANNEL: Partial<Record<InboxKind, Channel>> = {
  email: "email",
  sms: "sms",
  whatsapp: "whatsapp",
  messenger: "messenger",
  instagram: "instagram",
  x: "x",
  chat: "in_app",
};

export const InboxInput = z.object({
  kind: z.enum(INBOX_KINDS),
  name: z.string().trim().min(1).max(120),
  address: z.string().trim().min(1).max(320).optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  assignment: z.enum(["manual", "round_robin", "least_loaded"]).default("manual"),
  teamId: z.uuid().optional(),
  channel: z.enum(CHANNELS).optional(),
});
export type InboxInput = z.input<typeof InboxInput>;

const COLUMNS = sql`id::text AS id, kind, name, channel, address, config, assignment, team_id::text AS "teamId",
  to_json(created_at)#>>'{}' AS "createdAt", to_json(updated_at)#>>'{}' AS "updatedAt"`;

/** Creates an inbox: a channel instance conversations come in through and replies go out of. */
export async function createInbox(db: Db, workspaceId: string, input: InboxInput): Promise<Inbox> {
  const parsed = InboxInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "conversations.invalid_inbox",
      `${issue?.path.join(".") || "inbox"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const i = parsed.data;
  const config = await checkedConfig(i.kind, i.config);
  if (i.teamId) await requireTeam(db, workspaceId, i.teamId);
  const id = uuidv7();
  await db.execute(sql`INSERT INTO inboxes (workspace_id, id, kind, name, channel, address, config, assignment, team_id)
    VALUES (${workspaceId}, ${id}, ${i.kind}, ${i.name}, ${i.channel ?? REPLY_CHANNEL[i.kind] ?? null},
      ${i.address ?? null}, ${JSON.stringify(config)}::jsonb, ${i.assignment}, ${i.teamId ?? null})`);
  return getInbox(db, workspaceId, id);
}

/** One inbox of the workspace; another workspace's id is simply not found. */
export async function getInbox(db: Db, workspaceId: string, id: string): Promise<Inbox> {
  if (!isUuid(id)) throw new AppError("conversations.invalid_id", `"${id}" is not an inbox id (a UUID).`);
  const [row] = await rows<Inbox>(
    db,
    sql`SELECT ${COLUMNS} FROM inboxes WHERE workspace_id = ${workspaceId} AND id = ${id}`,
  );
  if (!row)
    throw new AppError("conversations.inbox_not_found", "No inbox with that id in this workspace.", { id });
  return row;
}

/** The workspace's inboxes, oldest first. */
export async function listInboxes(db: Db, workspaceId: string): Promise<Inbox[]> {
  return rows<Inbox>(db, sql`SELECT ${COLUMNS} FROM inboxes WHERE workspace_id = ${workspaceId} ORDER BY id`);
}

/**
 * The settings each kind of inbox keeps, checked where the kind defines them. Twilio, Meta and
 * X inboxes may be created without settings (not connected yet: their webhooks are refused
 * until they are set, and replies go through the workspace's provider); settings given must
 * be whole. A sandboxed inbox (the demo's) needs none.
 */
function kindSettings(kind: InboxKind): z.ZodType | undefined {
  switch (kind) {
    case "email":
      return EmailInboxConfig;
    case "voice":
      return VoiceInboxConfig;
    case "sms":
    case "whatsapp":
      return TwilioInboxConfig;
    case "messenger":
    case "instagram":
      return MetaInboxConfig;
    case "x":
      return XInboxConfig;
    case "chat":
      return ChatConfig;
    default:
      return undefined;
  }
}

const MAY_WAIT_FOR_SETTINGS = new Set<InboxKind>(["sms", "whatsapp", "messenger", "instagram", "x"]);

async function checkedConfig(
  kind: InboxKind,
  config: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const waiting =
    config.sandbox === true || (MAY_WAIT_FOR_SETTINGS.has(kind) && Object.keys(config).length === 0);
  const bad = waiting ? undefined : kindSettings(kind)?.safeParse(config).error?.issues[0];
  if (bad) {
    throw new AppError("conversations.invalid_inbox", `config.${bad.path.join(".")}: ${bad.message}`);
  }
  // an API inbox's webhook URL is checked (no internal address) and its signing secret made here
  return kind === "api" ? prepareApiInboxConfig(config) : config;
}

async function requireTeam(db: Db, workspaceId: string, teamId: string): Promise<void> {
  const [team] = await rows<{ id: string }>(
    db,
    sql`SELECT id::text AS id FROM teams WHERE workspace_id = ${workspaceId} AND id = ${teamId}`,
  );
  if (!team) throw new AppError("conversations.team_not_found", "No team with that id in this workspace.");
}

export const InboxPatch = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    address: z.string().trim().min(1).max(320).nullable().optional(),
    /** Merged into the settings: a key given replaces its value, a key set to null is removed. */
    config: z.record(z.string(), z.unknown()).optional(),
    assignment: z.enum(["manual", "round_robin", "least_loaded"]).optional(),
    teamId: z.uuid().nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "give at least one field to change" });
export type InboxPatch = z.input<typeof InboxPatch>;

/**
 * Changes an inbox's name, address, settings, assignment or team. The settings are merged
 * (so a secret need not be typed again to change something else) and checked whole, as when
 * the inbox was created; the kind never changes.
 */
export async function updateInbox(
  db: Db,
  workspaceId: string,
  id: string,
  patch: InboxPatch,
): Promise<Inbox> {
  const parsed = InboxPatch.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "conversations.invalid_inbox",
      `${issue?.path.join(".") || "inbox"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const p = parsed.data;
  const inbox = await getInbox(db, workspaceId, id);
  let config = inbox.config;
  if (p.config) {
    const merged: Record<string, unknown> = { ...inbox.config };
    for (const [key, value] of Object.entries(p.config)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    // the demo's sandbox flag is the server's to set, not an edit's
    if (inbox.config.sandbox === true) merged.sandbox = true;
    else delete merged.sandbox;
    config = await checkedConfig(inbox.kind, merged);
  }
  if (p.teamId) await requireTeam(db, workspaceId, p.teamId);
  await db.execute(sql`UPDATE inboxes SET
      name = ${p.name ?? inbox.name},
      address = ${p.address === undefined ? inbox.address : p.address},
      config = ${JSON.stringify(config)}::jsonb,
      assignment = ${p.assignment ?? inbox.assignment},
      team_id = ${p.teamId === undefined ? inbox.teamId : p.teamId},
      updated_at = now()
    WHERE workspace_id = ${workspaceId} AND id = ${id}`);
  return getInbox(db, workspaceId, id);
}

/**
 * Deletes an inbox that no conversation came through. An inbox with conversations keeps
 * them readable and answerable, so it is not deleted: its history is the customers' own.
 */
export async function deleteInbox(db: Db, workspaceId: string, id: string): Promise<void> {
  const inbox = await getInbox(db, workspaceId, id);
  const [used] = await rows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM conversations WHERE workspace_id = ${workspaceId} AND inbox_id = ${id}`,
  );
  if ((used?.n ?? 0) > 0) {
    throw new AppError(
      "conversations.inbox_in_use_conflict",
      `The inbox "${inbox.name}" has ${used?.n} conversation${used?.n === 1 ? "" : "s"}; an inbox with conversations cannot be deleted (their history stays readable). Rename it or remove its settings instead.`,
      { id, conversations: used?.n },
    );
  }
  await db.execute(sql`DELETE FROM inboxes WHERE workspace_id = ${workspaceId} AND id = ${id}`);
}
