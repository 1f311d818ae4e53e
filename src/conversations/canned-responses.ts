import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, rows } from "../db/client.ts";
import { isUniqueViolation } from "../db/retry.ts";
import { describeLiquidError, parseLiquid, renderLiquid } from "../delivery/liquid.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import { getUser } from "../platform/users.ts";
import { getCustomer } from "../profiles/customers.ts";
import { getConversation } from "./conversations.ts";

/** A saved reply, as agents pick it in the composer. */
export type CannedResponse = {
  id: string;
  shortcut: string;
  title: string;
  body: string;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
};

const Shortcut = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, {
    message: "use letters, digits, - and _ (up to 64, starting with a letter or digit), like refund-delay",
  });

export const CannedResponseInput = z.object({
  shortcut: Shortcut,
  title: z.string().trim().min(1).max(200),
  body: z
    .string()
    .min(1)
    .max(20_000)
    .describe("Liquid, rendered as plain text: `Hi {{ customer.first_name }}`."),
});
export type CannedResponseInput = z.input<typeof CannedResponseInput>;

export const CannedResponsePatch = CannedResponseInput.partial().refine((p) => Object.keys(p).length > 0, {
  message: "give shortcut, title or body",
});
export type CannedResponsePatch = z.input<typeof CannedResponsePatch>;

export const CannedResponseQuery = z.object({
  q: z.string().trim().max(200).optional().describe("A shortcut's beginning, or words of its title or body."),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type CannedResponseQuery = z.input<typeof CannedResponseQuery>;

const COLUMNS = sql`id::text AS id, shortcut, title, body, created_by::text AS "createdBy",
  updated_by::text AS "updatedBy", to_json(created_at)#>>'{}' AS "createdAt", to_json(updated_at)#>>'{}' AS "updatedAt"`;

function parse<T>(schema: z.ZodType<T>, input: unknown, code: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(code, `${issue?.path.join(".") || "input"}: ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data;
}

function notFound(id: string): AppError {
  return new AppError("canned_responses.not_found", "No canned response with that id in this workspace.", {
    id,
  });
}

function shortcutTaken(shortcut: string): AppError {
  return new AppError(
    "canned_responses.shortcut_already_exists",
    `shortcut: /${shortcut} is already a canned response of this workspace; pick another.`,
    { shortcut },
  );
}

/** Refuses a body Liquid cannot parse when it is saved, so agents never meet a broken one. */
function assertParses(body: string): void {
  try {
    parseLiquid("text", body);
  } catch (err) {
    throw templateError(err);
  }
}

function templateError(err: unknown): unknown {
  const problem = describeLiquidError(err);
  if (!problem) return err;
  return new AppError(
    "canned_responses.template_unprocessable",
    `body: ${problem.message} (line ${problem.line}, column ${problem.column})`,
    problem,
  );
}

/** Creates a canned response; its shortcut is unique in the workspace whatever its case. */
export async function createCannedResponse(
  db: Db,
  workspaceId: string,
  input: CannedResponseInput,
  authorId: string | null,
): Promise<CannedResponse> {
  const p = parse(CannedResponseInput, input, "canned_responses.invalid_input");
  assertParses(p.body);
  const [row] = await rows<CannedResponse>(
    db,
    sql`INSERT INTO canned_responses (workspace_id, id, shortcut, title, body, created_by, updated_by)
        VALUES (${workspaceId}, ${uuidv7()}, ${p.shortcut}, ${p.title}, ${p.body}, ${authorId}, ${authorId})
        ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
  );
  if (!row) throw shortcutTaken(p.shortcut);
  return row;
}

/** One canned response; another workspace's id is not found. */
export async function getCannedResponse(db: Db, workspaceId: string, id: string): Promise<CannedResponse> {
  if (!isUuid(id)) throw notFound(id);
  const [row] = await rows<CannedResponse>(
    db,
    sql`SELECT ${COLUMNS} FROM canned_responses WHERE workspace_id = ${workspaceId} AND id = ${id}`,
  );
  if (!row) throw notFound(id);
  return row;
}

/**
 * The workspace's canned responses by shortcut; with `q`, those whose shortcut begins with it
 * first (what `/ref` in the composer means), then those whose title or body holds it.
 */
export async function listCannedResponses(
  db: Db,
  workspaceId: string,
  query: CannedResponseQuery = {},
): Promise<{ data: CannedResponse[] }> {
  const q = parse(CannedResponseQuery, query, "canned_responses.invalid_query");
  const text = q.q?.replace(/^\//, "").toLowerCase();
  // LIKE's wildcards in what the agent typed are literal characters
  const like = text ? text.replace(/[\\%_]/g, (c) => `\\${c}`) : undefined;
  const data = await rows<CannedResponse>(
    db,
    sql`SELECT ${COLUMNS} FROM canned_responses WHERE workspace_id = ${workspaceId}
        ${
          like
            ? sql`AND (lower(shortcut) LIKE ${`${like}%`} OR lower(title) LIKE ${`%${like}%`}
                OR lower(body) LIKE ${`%${like}%`})`
            : sql``
        }
        ORDER BY ${like ? sql`(lower(shortcut) LIKE ${`${like}%`}) DESC,` : sql``} lower(shortcut), id
        LIMIT ${q.limit}`,
  );
  return { data };
}

/** Changes a canned response's shortcut, title or body. */
export async function updateCannedResponse(
  db: Db,
  workspaceId: string,
  id: string,
  patch: CannedResponsePatch,
  editorId: string | null,
): Promise<CannedResponse> {
  if (!isUuid(id)) throw notFound(id);
  const p = parse(CannedResponsePatch, patch, "canned_responses.invalid_input");
  if (p.body !== undefined) assertParses(p.body);
  if (p.shortcut !== undefined) {
    const [taken] = await rows<{ id: string }>(
      db,
      sql`SELECT id::text AS id FROM canned_responses WHERE workspace_id = ${workspaceId}
          AND lower(shortcut) = lower(${p.shortcut}) AND id <> ${id}`,
    );
    if (taken) throw shortcutTaken(p.shortcut);
  }
  let row: CannedResponse | undefined;
  try {
    [row] = await rows<CannedResponse>(
      db,
      sql`UPDATE canned_responses SET updated_at = now(), updated_by = ${editorId}
          ${p.shortcut !== undefined ? sql`, shortcut = ${p.shortcut}` : sql``}
          ${p.title !== undefined ? sql`, title = ${p.title}` : sql``}
          ${p.body !== undefined ? sql`, body = ${p.body}` : sql``}
          WHERE workspace_id = ${workspaceId} AND id = ${id} RETURNING ${COLUMNS}`,
    );
  } catch (err) {
    // another editor took the shortcut between the check and the update
    if (p.shortcut !== undefined && isUniqueViolation(err)) throw shortcutTaken(p.shortcut);
    throw err;
  }
  if (!row) throw notFound(id);
  return row;
}

/** Deletes a canned response. */
export async function deleteCannedResponse(db: Db, workspaceId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound(id);
  const [row] = await rows<{ id: string }>(
    db,
    sql`DELETE FROM canned_responses WHERE workspace_id = ${workspaceId} AND id = ${id} RETURNING id::text AS id`,
  );
  if (!row) throw notFound(id);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

export const RenderInput = z.object({ conversationId: z.uuid() });
export type RenderInput = z.input<typeof RenderInput>;

/**
 * The text the composer inserts: the body rendered, through the sandboxed Liquid, with the
 * conversation's customer (`customer.name`, `.first_name`, `.email`, `.phone`, `.traits.*`),
 * the agent (`agent.name`, `.first_name`, `.email`) and the conversation (`number`, `subject`).
 */
export async function renderCannedResponse(
  db: Db,
  workspaceId: string,
  id: string,
  input: RenderInput,
  agentId: string | null,
): Promise<{ text: string }> {
  const { conversationId } = parse(RenderInput, input, "canned_responses.invalid_input");
  const canned = await getCannedResponse(db, workspaceId, id);
  const conversation = await getConversation(db, workspaceId, conversationId);
  const customer = await getCustomer(db, workspaceId, conversation.customerId);
  const agent = agentId ? await getUser(db, workspaceId, agentId) : undefined;
  const traits = customer.traits;
  const identity = (kind: string) => customer.identities.find((i) => i.kind === kind)?.value;
  const identities: Record<string, string[]> = {};
  for (const i of customer.identities) identities[i.kind] = [...(identities[i.kind] ?? []), i.value];
  const firstName = str(traits.first_name) ?? str(traits.firstName) ?? str(traits.name)?.split(/\s+/)[0];
  const lastName = str(traits.last_name) ?? str(traits.lastName);
  const email = str(traits.email) ?? identity("email");
  const phone = str(traits.phone) ?? identity("phone");
  const agentName = agent ? str(agent.name) : undefined;
  const scope = {
    customer: {
      id: customer.id,
      name: str(traits.name) ?? ([firstName, lastName].filter(Boolean).join(" ") || email || phone || ""),
      first_name: firstName ?? "",
      last_name: lastName ?? "",
      email: email ?? "",
      phone: phone ?? "",
      traits,
      identities,
    },
    agent: agent
      ? {
          id: agent.id,
          name: agentName ?? "",
          first_name: agentName?.split(/\s+/)[0] ?? "",
          email: agent.email,
        }
      : {},
    conversation: {
      id: conversation.id,
      number: conversation.number,
      subject: conversation.subject ?? "",
      channel: conversation.channel ?? "",
      status: conversation.status,
    },
  };
  try {
    return { text: await renderLiquid("text", canned.body, scope) };
  } catch (err) {
    throw templateError(err);
  }
}
