import { sql } from "drizzle-orm";
import type { ConversationPost } from "../contracts/conversations.ts";
import { type Db, rows } from "../db/client.ts";
import { transactionWithRetry } from "../db/retry.ts";
import { publishInTransaction } from "../realtime/bus.ts";
import { conversationsTopic } from "./inbound.ts";

// The post a comment conversation belongs to. Comment threads are keyed `comments:<post id>`
// (one conversation per commenter and post); the post itself is read from the provider once
// per inbox and post, and shown at the top of each of its conversations.

/** The thread key prefix of comment conversations: `comments:<post or media id>`. */
export const COMMENT_THREAD_PREFIX = "comments:";

/** What a provider answered for a post. */
export type PostOutcome =
  | {
      kind: "ready";
      text: string | null;
      permalinkUrl: string | null;
      mediaUrl: string | null;
      postedAt: Date | null;
    }
  /** For good: the post is gone, or cannot be read with the inbox's settings. */
  | { kind: "unavailable"; reason: string }
  /** For now: another attempt may pass. */
  | { kind: "retry"; reason: string };

// a post that could not be read is asked for again by a later comment, at most this often
const UNAVAILABLE_RETRY = sql`interval '1 hour'`;

// the conversations told a post changed: the most active, which agents have open (a viral
// post's thousands of threads would flood every screen)
const TOLD_CONVERSATIONS = 200;

export type { ConversationPost };

// PostgreSQL stores no NUL character in text
const clean = (v: string | null): string | null => (v === null ? null : v.replaceAll("\u0000", ""));

/** Only web addresses are kept as a post's link or picture: anything else would be no link to follow. */
export function webUrl(value: string | undefined): string | null {
  if (!value || value.length > 4096) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Notes, in the transaction of a comment, that its conversation belongs to a post: the post's
 * row is written (pending) the first time, with the link the webhook gave when it gave one.
 * True when the post must be read from the provider: new, still pending (a job may already
 * be queued: its dedupe key keeps it one), or unavailable for over an hour.
 */
export async function notePost(
  tx: Db,
  workspaceId: string,
  inboxId: string,
  externalId: string,
  hint: { permalinkUrl?: string | undefined } = {},
): Promise<boolean> {
  const [row] = await rows<{ created: boolean; wanted: boolean | null }>(
    tx,
    sql`WITH ins AS (
        INSERT INTO social_posts (workspace_id, inbox_id, external_id, permalink_url)
        VALUES (${workspaceId}, ${inboxId}, ${externalId}, ${webUrl(hint.permalinkUrl)})
        ON CONFLICT DO NOTHING RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM ins) AS created,
        (SELECT p.fetched_at IS NULL OR (p.last_error IS NOT NULL AND p.fetched_at < now() - ${UNAVAILABLE_RETRY})
          FROM social_posts p
          WHERE p.workspace_id = ${workspaceId} AND p.inbox_id = ${inboxId} AND p.external_id = ${externalId}) AS wanted`,
  );
  // neither written nor seen: a concurrent comment wrote it after this statement began
  return row?.created === true || row?.wanted !== false;
}

/** Whether a post was read already (the fetch has nothing left to do). */
export async function isPostReady(
  db: Db,
  workspaceId: string,
  inboxId: string,
  externalId: string,
): Promise<boolean> {
  const [row] = await rows<{ ready: boolean }>(
    db,
    sql`SELECT fetched_at IS NOT NULL AND last_error IS NULL AS ready FROM social_posts
        WHERE workspace_id = ${workspaceId} AND inbox_id = ${inboxId} AND external_id = ${externalId}`,
  );
  return row?.ready === true;
}

/**
 * Records what the provider answered for a post: the post (ready), why it cannot be read
 * (unavailable, kept in `last_error`), or one more attempt (retry). A ready or unavailable
 * post tells agents' screens showing its conversations (`conversation.updated`), so they
 * read it again.
 */
export async function recordPostOutcome(
  db: Db,
  workspaceId: string,
  inboxId: string,
  externalId: string,
  outcome: PostOutcome,
): Promise<void> {
  const key = sql`${workspaceId}, ${inboxId}, ${externalId}`;
  await transactionWithRetry(db, async (tx) => {
    if (outcome.kind === "retry") {
      await tx.execute(sql`INSERT INTO social_posts (workspace_id, inbox_id, external_id, attempts)
        VALUES (${key}, 1)
        ON CONFLICT (workspace_id, inbox_id, external_id)
        DO UPDATE SET attempts = social_posts.attempts + 1, updated_at = now()`);
      return;
    }
    if (outcome.kind === "unavailable") {
      await tx.execute(sql`INSERT INTO social_posts (workspace_id, inbox_id, external_id, fetched_at, last_error, attempts)
        VALUES (${key}, now(), ${clean(outcome.reason)}, 1)
        ON CONFLICT (workspace_id, inbox_id, external_id)
        DO UPDATE SET fetched_at = now(), last_error = excluded.last_error,
          attempts = social_posts.attempts + 1, updated_at = now()`);
    } else {
      await tx.execute(sql`INSERT INTO social_posts (workspace_id, inbox_id, external_id, text, permalink_url,
          media_url, posted_at, fetched_at, attempts)
        VALUES (${key}, ${clean(outcome.text)}, ${webUrl(outcome.permalinkUrl ?? undefined)},
          ${webUrl(outcome.mediaUrl ?? undefined)}, ${outcome.postedAt?.toISOString() ?? null}::timestamptz, now(), 1)
        ON CONFLICT (workspace_id, inbox_id, external_id)
        DO UPDATE SET text = excluded.text,
          permalink_url = COALESCE(excluded.permalink_url, social_posts.permalink_url),
          media_url = excluded.media_url, posted_at = excluded.posted_at, fetched_at = now(), last_error = NULL,
          attempts = social_posts.attempts + 1, updated_at = now()`);
    }
    await tellConversations(tx, workspaceId, inboxId, externalId);
  });
}

/**
 * Stores a post whose content is already known (the demo's, a channel that sends it with the
 * comment): ready at once, no provider asked.
 */
export async function storeKnownPost(
  db: Db,
  workspaceId: string,
  inboxId: string,
  externalId: string,
  post: {
    text: string | null;
    permalinkUrl?: string | null;
    mediaUrl?: string | null;
    postedAt?: Date | null;
  },
): Promise<void> {
  await transactionWithRetry(db, async (tx) => {
    await tx.execute(sql`INSERT INTO social_posts (workspace_id, inbox_id, external_id, text, permalink_url,
        media_url, posted_at, fetched_at)
      VALUES (${workspaceId}, ${inboxId}, ${externalId}, ${clean(post.text)}, ${webUrl(post.permalinkUrl ?? undefined)},
        ${webUrl(post.mediaUrl ?? undefined)}, ${post.postedAt?.toISOString() ?? null}::timestamptz, now())
      ON CONFLICT (workspace_id, inbox_id, external_id)
      DO UPDATE SET text = excluded.text, permalink_url = excluded.permalink_url, media_url = excluded.media_url,
        posted_at = excluded.posted_at, fetched_at = now(), last_error = NULL, updated_at = now()`);
    await tellConversations(tx, workspaceId, inboxId, externalId);
  });
}

/** `conversation.updated` for the post's conversations, heard when the caller's transaction commits. */
async function tellConversations(tx: Db, workspaceId: string, inboxId: string, externalId: string) {
  const found = await rows<{ id: string }>(
    tx,
    sql`SELECT id::text AS id FROM conversations
        WHERE workspace_id = ${workspaceId} AND inbox_id = ${inboxId}
          AND thread_key = ${COMMENT_THREAD_PREFIX + externalId}
        ORDER BY last_message_at DESC LIMIT ${TOLD_CONVERSATIONS}`,
  );
  for (const c of found) {
    await publishInTransaction(tx, conversationsTopic(workspaceId), {
      type: "conversation.updated",
      conversationId: c.id,
      changes: ["post"],
    });
  }
}

// where the post id starts in a comment thread's key (1-based)
const FROM = sql.raw(String(COMMENT_THREAD_PREFIX.length + 1));

/**
 * The `post` column of a conversation read as `c` (joined by `POST_JOIN`): the post of a
 * Messenger or Instagram comment conversation, null for every other one. A comment
 * conversation whose post was never asked for (it came before posts were read) is unavailable.
 */
export const POST_COLUMN = sql`CASE WHEN c.channel IN ('messenger', 'instagram')
    AND c.thread_key LIKE ${`${COMMENT_THREAD_PREFIX}%`} THEN json_build_object(
      'id', substr(c.thread_key, ${FROM}),
      'text', sp.text, 'permalinkUrl', sp.permalink_url, 'mediaUrl', sp.media_url,
      'postedAt', to_json(sp.posted_at)#>>'{}',
      'status', CASE WHEN sp.external_id IS NULL THEN 'unavailable' WHEN sp.fetched_at IS NULL THEN 'pending'
        WHEN sp.last_error IS NULL THEN 'ready' ELSE 'unavailable' END)
  END`;

/** Joins a conversation `c` to its post's row (`sp`), in its own workspace and inbox only. */
export const POST_JOIN = sql`LEFT JOIN social_posts sp ON sp.workspace_id = c.workspace_id
  AND sp.inbox_id = c.inbox_id AND c.thread_key LIKE ${`${COMMENT_THREAD_PREFIX}%`}
  AND sp.external_id = substr(c.thread_key, ${FROM})`;
