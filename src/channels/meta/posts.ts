import { z } from "zod";
import { getInbox } from "../../conversations/inboxes.ts";
import { isPostReady, notePost, recordPostOutcome } from "../../conversations/social-posts.ts";
import type { Db } from "../../db/client.ts";
import { isAppError } from "../../errors.ts";
import {
  type BackoffOptions,
  defineTask,
  type EnqueueSpec,
  enqueue,
  PermanentJobError,
  type Task,
} from "../../jobs/index.ts";
import { isMetaInbox, MetaInboxConfig } from "./config.ts";
import { graphFailure, isGraphId, postPath, readGraph, readGraphPost } from "./graph.ts";

/** The task that reads a commented post or media from the Graph API. */
export const POST_TASK = "meta.fetch_post";

/** One post (Facebook) or media (Instagram) of one inbox. */
export const PostJob = z.object({
  workspaceId: z.uuid(),
  inboxId: z.uuid(),
  postId: z.string().refine(isGraphId, "must be a Graph post or media id"),
});
export type PostJob = z.infer<typeof PostJob>;

const MAX_ATTEMPTS = 8;

/** The job for one post; its key keeps one live job per inbox and post, however many comments come. */
export function postJobSpec(job: PostJob): EnqueueSpec {
  return {
    task: POST_TASK,
    payload: PostJob.parse(job),
    workspaceId: job.workspaceId,
    maxAttempts: MAX_ATTEMPTS,
    dedupeKey: `${POST_TASK}:${job.workspaceId}:${job.inboxId}:${job.postId}`,
  };
}

/**
 * In a comment's transaction: notes the post it belongs to and, unless the post is read
 * already (or was found unavailable within the hour), queues its reading. Ids that are no
 * Graph id (a comment whose media Meta did not name) are not asked for.
 */
export async function queuePostFetch(
  tx: Db,
  workspaceId: string,
  inboxId: string,
  post: { id: string; permalinkUrl?: string | undefined },
): Promise<void> {
  if (!isGraphId(post.id)) return;
  if (await notePost(tx, workspaceId, inboxId, post.id, { permalinkUrl: post.permalinkUrl })) {
    await enqueue(tx, postJobSpec({ workspaceId, inboxId, postId: post.id }));
  }
}

// reading needs the token and where to call, not the webhook secrets
const ReadConfig = MetaInboxConfig.pick({ graphBaseUrl: true, timeoutMs: true });

/**
 * Reads one post or media through the inbox's Graph API (its base URL and page access
 * token) and records it: Facebook `GET /{post}?fields=message,permalink_url,full_picture,created_time`,
 * Instagram `GET /{media}?fields=caption,permalink,media_url,thumbnail_url,media_type,timestamp`.
 * A post already read is not read again. Throttling, outages and network failures throw (the
 * job runtime retries with backoff; the last attempt records the post unavailable); anything
 * else Graph refuses (a deleted post, a missing permission), a sandbox inbox or one without a
 * token is recorded unavailable with the reason and throws `PermanentJobError`.
 */
export async function fetchMetaPost(
  db: Db,
  job: PostJob,
  opts: { signal?: AbortSignal | undefined; lastAttempt?: boolean | undefined } = {},
): Promise<"stored" | "already_stored"> {
  const { workspaceId, inboxId, postId } = job;
  let inbox: Awaited<ReturnType<typeof getInbox>>;
  try {
    inbox = await getInbox(db, workspaceId, inboxId);
  } catch (err) {
    // a database that is down is retried; a missing inbox never comes back
    if (isAppError(err)) throw new PermanentJobError(`the inbox is gone: ${err.message}`);
    throw err;
  }
  if (await isPostReady(db, workspaceId, inboxId, postId)) return "already_stored";
  const unavailable = async (reason: string): Promise<never> => {
    await recordPostOutcome(db, workspaceId, inboxId, postId, { kind: "unavailable", reason });
    throw new PermanentJobError(reason);
  };
  if (!isMetaInbox(inbox)) return unavailable(`a ${inbox.kind} inbox reads no Meta posts`);
  if (inbox.config.sandbox === true) return unavailable("a sandbox inbox reads nothing from Meta");
  const token = inbox.config.pageAccessToken;
  if (typeof token !== "string" || token.length === 0) {
    return unavailable("the inbox has no page access token to read the post with");
  }
  const config = ReadConfig.safeParse(inbox.config);
  if (!config.success) {
    const issue = config.error.issues[0];
    return unavailable(
      `the inbox's ${issue?.path.join(".") || "settings"} ${issue?.message ?? "is invalid"}`,
    );
  }
  const call = await readGraph(
    { ...config.data, pageAccessToken: token },
    postPath(inbox.kind, postId),
    opts.signal ?? new AbortController().signal,
  );
  const failure = !call.ok
    ? call.result
    : call.answer.status >= 200 && call.answer.status < 300
      ? undefined
      : graphFailure(call.answer);
  if (failure) {
    if (!failure.retryable) return unavailable(failure.reason);
    if (opts.lastAttempt) return unavailable(failure.reason);
    await recordPostOutcome(db, workspaceId, inboxId, postId, { kind: "retry", reason: failure.reason });
    throw new Error(failure.reason);
  }
  const post = call.ok ? readGraphPost(inbox.kind, call.answer.json) : undefined;
  if (!post) return unavailable("meta_bad_answer: the post came back as no object Rapport can read");
  await recordPostOutcome(db, workspaceId, inboxId, postId, { kind: "ready", ...post });
  return "stored";
}

/** The task that reads commented posts; `backoff` is given by tests that retry without waiting. */
export function createPostTask(options: { backoff?: Partial<BackoffOptions> } = {}): Task<PostJob> {
  return defineTask({
    name: POST_TASK,
    schema: PostJob,
    maxAttempts: MAX_ATTEMPTS,
    backoff: options.backoff ?? { baseMs: 5_000, maxMs: 30 * 60_000, jitter: "equal" },
    handler: async (payload, job) => {
      await fetchMetaPost(job.db, payload, {
        signal: job.signal,
        lastAttempt: job.attempt >= job.maxAttempts,
      });
    },
  });
}
