import { sql } from "drizzle-orm";
import { z } from "zod";
import { prepareApiInboxConfig } from "../channels/api/config.ts";
import { EmailInboxConfig } from "../channels/email/reply-to.ts";
import { VoiceInboxConfig } from "../channels/twilio/voice-config.ts";
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
  // each kind's own settings are checked where the kind defines them
  const settings = i.kind === "email" ? EmailInboxConfig : i.kind === "voice" ? VoiceInboxConfig : undefined;
  const bad = settings?.safeParse(i.config).error?.issues[0];
  if (bad) {
    throw new AppError("conversations.invalid_inbox", `config.${bad.path.join(".")}: ${bad.message}`);
  }
  // an API inbox's webhook URL is checked (no internal address) and its signing secret made here
  const config = i.kind === "api" ? await prepareApiInboxConfig(i.config) : i.config;
  if (i.teamId) {
    const [team] = await rows<{ id: string }>(
      db,
      sql`SELECT id::text AS id FROM teams WHERE workspace_id = ${workspaceId} AND id = ${i.teamId}`,
    );
    if (!team) throw new AppError("conversations.team_not_found", "No team with that id in this workspace.");
  }
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
