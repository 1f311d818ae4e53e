import { type AttachmentStore, MAX_ATTACHMENT_BYTES } from "../../conversations/attachments.ts";
import { extensionFor, readLimited } from "../../conversations/fetched-file.ts";
import type { Attachment } from "../../conversations/tables.ts";
import type { MetaAttachment } from "./payload.ts";

export const DEFAULT_MEDIA_TIMEOUT_MS = 15_000;

// files a message carries; shares, story mentions, templates and reels point at content kept by Meta
const FETCHED = new Set(["image", "video", "audio", "file"]);

/** An attachment as kept in the message's metadata: its type, Meta's URL, and what became of it. */
export type MetaAttachmentRef = { type: string; url?: string; title?: string; stickerId?: string };

/** A fetched attachment that could not be kept, and why (kept in the message's metadata). */
export type MetaMediaFailure = { index: number; url: string; reason: string };

/** Attachments as metadata: Meta's URLs expire, but what was sent stays readable. */
export function attachmentRefs(items: readonly MetaAttachment[]): MetaAttachmentRef[] {
  return items.map((a) => ({
    type: a.type,
    ...(a.payload?.url ? { url: a.payload.url } : {}),
    ...(a.payload?.title ? { title: a.payload.title } : {}),
    ...(a.payload?.sticker_id ? { stickerId: a.payload.sticker_id } : {}),
  }));
}

function fileName(url: URL, type: string, index: number, contentType: string): string {
  // Meta's CDN URLs end with the file's own name (…/photo_123.jpg?…); keep it when it has one
  const last = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  if (/^[\w.-]{1,120}\.[a-z0-9]{2,5}$/i.test(last)) return last;
  return `${type}-${index}.${extensionFor(contentType)}`;
}

/**
 * Keeps the files of a message (images, videos, audio, documents) in the attachment store:
 * Meta's attachment URLs stop working after a while, so a conversation read next month still
 * shows them. The URLs need no credentials. A failure costs that file only, never the message.
 */
export async function fetchMetaAttachments(
  store: AttachmentStore,
  workspaceId: string,
  items: readonly MetaAttachment[],
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<{ attachments: Attachment[]; failures: MetaMediaFailure[] }> {
  const maxBytes = Math.min(opts.maxBytes ?? MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
  const results = await Promise.all(
    items.map(async (item, index): Promise<Attachment | MetaMediaFailure | undefined> => {
      const raw = item.payload?.url;
      if (!raw || !FETCHED.has(item.type)) return undefined;
      const fail = (reason: string): MetaMediaFailure => ({ index, url: raw, reason });
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return fail("not a URL");
      }
      if (url.protocol !== "https:" && url.protocol !== "http:")
        return fail(`${url.protocol} URLs are not fetched`);
      try {
        const response = await fetch(url, {
          redirect: "follow",
          signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS),
        });
        if (!response.ok) {
          await response.body?.cancel();
          return fail(`HTTP ${response.status}`);
        }
        const data = await readLimited(response, maxBytes);
        const contentType = response.headers.get("content-type") ?? "application/octet-stream";
        return await store.put(workspaceId, {
          name: fileName(url, item.type, index, contentType),
          contentType,
          data,
        });
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
    }),
  );
  const attachments: Attachment[] = [];
  const failures: MetaMediaFailure[] = [];
  for (const r of results) {
    if (!r) continue;
    if ("key" in r) attachments.push(r);
    else failures.push(r);
  }
  return { attachments, failures };
}
