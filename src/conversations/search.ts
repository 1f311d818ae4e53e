import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Channel } from "../consent/tables.ts";
import { type Db, rows } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { normalizePhone } from "../profiles/identifiers.ts";
import type { ConversationStatus } from "./tables.ts";

// The agent's search box: customers by email, phone, any identity (an X handle, a page-scoped
// id) or name; conversations by number, subject or what was written in them. Everything is
// scoped to the caller's workspace in each statement.

export const SEARCH_MIN = 2;
export const SEARCH_MAX = 200;

export const SearchQuery = z.object({
  q: z.string().describe(`What to look for: ${SEARCH_MIN} to ${SEARCH_MAX} characters.`),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(10)
    .describe("Per list: customers and conversations."),
});
export type SearchQuery = z.input<typeof SearchQuery>;

export type CustomerHit = {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  /** What matched, best first: email, phone, identity (a handle, an id), name. */
  matched: "email" | "phone" | "identity" | "name";
};

export type ConversationHit = {
  id: string;
  number: number;
  subject: string | null;
  channel: Channel | null;
  status: ConversationStatus;
  customerId: string;
  customerName: string | null;
  /** The latest matching message's text around the match; null when no message matched. */
  snippet: string | null;
  matched: "number" | "subject" | "message";
  lastMessageAt: string;
};

export type SearchResult = { customers: CustomerHit[]; conversations: ConversationHit[] };

/** `q` as a LIKE pattern's literal part: `%`, `_` and the escape character stand for themselves. */
export function likeLiteral(q: string): string {
  return q.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** `q` as a phone number: E.164 when it is a valid one, else a prefix of digits, else undefined. */
function phoneOf(q: string, defaultCountry: string): { exact?: string; prefix?: string } {
  if (!/^\+?[\d\s().-]+$/.test(q)) return {};
  const digits = q.replace(/\D/g, "");
  try {
    return { exact: normalizePhone(q, defaultCountry) };
  } catch {
    return digits.length >= 3 ? { prefix: `+${digits}` } : {};
  }
}

const CUSTOMER_NAME = sql`COALESCE(NULLIF(btrim(cu.traits->>'name'), ''),
  NULLIF(btrim(concat_ws(' ', cu.traits->>'first_name', cu.traits->>'last_name')), ''),
  NULLIF(btrim(concat_ws(' ', cu.traits->>'firstName', cu.traits->>'lastName')), ''))`;

/**
 * Customers and conversations that match `q`, at most `limit` of each. Refuses a query under
 * 2 or over 200 characters (`search.query_too_short`, `search.query_too_long`).
 */
export async function search(
  db: Db,
  workspaceId: string,
  input: SearchQuery,
  opts: { defaultCountry: string },
): Promise<SearchResult> {
  const parsed = SearchQuery.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "search.invalid_query",
      `${issue?.path.join(".") || "query"}: ${issue?.message ?? "is invalid"}`,
    );
  }
  const q = parsed.data.q.trim();
  if (q.length < SEARCH_MIN) {
    throw new AppError("search.query_too_short", `q: type at least ${SEARCH_MIN} characters to search.`, {
      min: SEARCH_MIN,
    });
  }
  if (q.length > SEARCH_MAX) {
    throw new AppError(
      "search.query_too_long",
      `q: a search is at most ${SEARCH_MAX} characters; shorten it.`,
      { max: SEARCH_MAX },
    );
  }
  const limit = parsed.data.limit;
  const [customers, conversations] = [
    await searchCustomers(db, workspaceId, q, limit, opts.defaultCountry),
    await searchConversations(db, workspaceId, q, limit),
  ];
  return { customers, conversations };
}

async function searchCustomers(
  db: Db,
  workspaceId: string,
  q: string,
  limit: number,
  defaultCountry: string,
): Promise<CustomerHit[]> {
  const lower = q.toLowerCase();
  const like = likeLiteral(lower);
  const handle = lower.replace(/^@/, "");
  const phone = phoneOf(q, defaultCountry);
  const phoneMatch = phone.exact
    ? sql`x.value = ${phone.exact}`
    : phone.prefix
      ? sql`x.value LIKE ${`${likeLiteral(phone.prefix)}%`}`
      : sql`false`;
  // rank: 1 email, 2 phone, 3 another identity, 4 name; a customer shows once, at its best rank
  return rows<CustomerHit>(
    db,
    sql`WITH hits AS (
          SELECT x.customer_id AS id,
            min(CASE WHEN x.kind = 'email' AND x.value LIKE ${`${like}%`} THEN 1
              WHEN x.kind IN ('phone', 'whatsapp_id') AND ${phoneMatch} THEN 2 ELSE 3 END) AS rank
          FROM identities x
          WHERE x.workspace_id = ${workspaceId}
            AND ((x.kind = 'email' AND x.value LIKE ${`${like}%`})
              OR (x.kind IN ('phone', 'whatsapp_id') AND ${phoneMatch})
              OR lower(x.value) = ${lower} OR lower(x.value) = ${handle})
          GROUP BY x.customer_id
          UNION ALL
          SELECT cu.id, 4 FROM customers cu
          WHERE cu.workspace_id = ${workspaceId} AND cu.merged_into IS NULL
            AND (${CUSTOMER_NAME} ILIKE ${`%${likeLiteral(q)}%`} OR cu.traits->>'email' ILIKE ${`${like}%`})
        ), best AS (
          SELECT id, min(rank) AS rank FROM hits GROUP BY id
        )
        SELECT cu.id::text AS id, ${CUSTOMER_NAME} AS name,
          COALESCE(cu.traits->>'email', (SELECT i.value FROM identities i WHERE i.workspace_id = cu.workspace_id
            AND i.customer_id = cu.id AND i.kind = 'email' ORDER BY i.value LIMIT 1)) AS email,
          COALESCE(cu.traits->>'phone', (SELECT i.value FROM identities i WHERE i.workspace_id = cu.workspace_id
            AND i.customer_id = cu.id AND i.kind = 'phone' ORDER BY i.value LIMIT 1)) AS phone,
          CASE b.rank WHEN 1 THEN 'email' WHEN 2 THEN 'phone' WHEN 3 THEN 'identity' ELSE 'name' END AS matched
        FROM best b JOIN customers cu ON cu.workspace_id = ${workspaceId} AND cu.id = b.id AND cu.merged_into IS NULL
        ORDER BY b.rank, cu.last_seen_at DESC, cu.id LIMIT ${limit}`,
  );
}

const SNIPPET_BEFORE = 60;
const SNIPPET_LENGTH = 160;

async function searchConversations(
  db: Db,
  workspaceId: string,
  q: string,
  limit: number,
): Promise<ConversationHit[]> {
  const numberMatch = /^#?(\d{1,9})$/.exec(q);
  const number = numberMatch?.[1] ? Number(numberMatch[1]) : null;
  const pattern = `%${likeLiteral(q)}%`;
  // the latest matching message of each conversation: one row per conversation
  return rows<ConversationHit>(
    db,
    sql`WITH hits AS (
          SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.text, m.created_at,
            strpos(lower(m.text), ${q.toLowerCase()}) AS at
          FROM conversation_messages m
          WHERE m.workspace_id = ${workspaceId} AND m.kind IN ('message', 'note') AND m.text ILIKE ${pattern}
          ORDER BY m.conversation_id, m.created_at DESC, m.id DESC
        )
        SELECT c.id::text AS id, c.number, c.subject, c.channel, c.status, c.customer_id::text AS "customerId",
          COALESCE(${CUSTOMER_NAME}, cu.traits->>'email', cu.traits->>'phone', c.contact_address) AS "customerName",
          CASE WHEN c.number = ${number}::int THEN 'number' WHEN c.subject ILIKE ${pattern} THEN 'subject'
            ELSE 'message' END AS matched,
          CASE WHEN h.conversation_id IS NULL THEN NULL
            ELSE concat(CASE WHEN greatest(h.at, 1) > ${SNIPPET_BEFORE + 1} THEN '…' END,
              btrim(substr(h.text, greatest(h.at - ${SNIPPET_BEFORE}, 1), ${SNIPPET_LENGTH})),
              CASE WHEN greatest(h.at - ${SNIPPET_BEFORE}, 1) + ${SNIPPET_LENGTH} <= length(h.text) THEN '…' END)
          END AS snippet,
          to_json(c.last_message_at)#>>'{}' AS "lastMessageAt"
        FROM conversations c
        LEFT JOIN hits h ON h.conversation_id = c.id
        LEFT JOIN customers cu ON cu.workspace_id = c.workspace_id AND cu.id = c.customer_id
        WHERE c.workspace_id = ${workspaceId}
          AND (c.number = ${number}::int
            OR (c.merged_into_id IS NULL AND (c.subject ILIKE ${pattern} OR h.conversation_id IS NOT NULL)))
        ORDER BY (c.number = ${number}::int) IS TRUE DESC, COALESCE(h.created_at, c.last_message_at) DESC, c.id DESC
        LIMIT ${limit}`,
  );
}
