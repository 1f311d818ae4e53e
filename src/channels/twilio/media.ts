import type { AttachmentStore } from "../../conversations/attachments.ts";
import { MAX_ATTACHMENT_BYTES } from "../../conversations/attachments.ts";
import { extensionFor, readLimited } from "../../conversations/fetched-file.ts";
import type { Attachment } from "../../conversations/tables.ts";

/** One media item of an MMS or WhatsApp message, as Twilio posts it. */
export type TwilioMedia = { index: number; url: string; contentType: string | undefined };

/** A media item that could not be kept, and why (kept in the message's metadata). */
export type MediaFailure = { index: number; url: string; reason: string };

export const DEFAULT_MEDIA_TIMEOUT_MS = 15_000;

function fileName(media: TwilioMedia, contentType: string): string {
  return `media-${media.index}.${extensionFor(contentType)}`;
}

/**
 * Fetches each media item with the account's Basic credentials (Twilio's media URLs may require
 * them; the redirect to the file's storage drops them, as fetch does across origins) and keeps
 * it in the attachment store. A failure costs that item only, never the message.
 */
export async function fetchTwilioMedia(
  store: AttachmentStore,
  workspaceId: string,
  items: readonly TwilioMedia[],
  auth: { accountSid: string; authToken: string },
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<{ attachments: Attachment[]; failures: MediaFailure[] }> {
  const authorization = `Basic ${Buffer.from(`${auth.accountSid}:${auth.authToken}`).toString("base64")}`;
  const maxBytes = Math.min(opts.maxBytes ?? MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
  const results = await Promise.all(
    items.map(async (media): Promise<Attachment | MediaFailure> => {
      const fail = (reason: string): MediaFailure => ({ index: media.index, url: media.url, reason });
      let url: URL;
      try {
        url = new URL(media.url);
      } catch {
        return fail("not a URL");
      }
      if (url.protocol !== "https:" && url.protocol !== "http:")
        return fail(`${url.protocol} URLs are not fetched`);
      try {
        const response = await fetch(url, {
          headers: { authorization },
          redirect: "follow",
          signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS),
        });
        if (!response.ok) {
          await response.body?.cancel();
          return fail(`HTTP ${response.status}`);
        }
        const data = await readLimited(response, maxBytes);
        const contentType =
          media.contentType ?? response.headers.get("content-type") ?? "application/octet-stream";
        return await store.put(workspaceId, { name: fileName(media, contentType), contentType, data });
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
    }),
  );
  const attachments: Attachment[] = [];
  const failures: MediaFailure[] = [];
  for (const r of results) {
    if ("key" in r) attachments.push(r);
    else failures.push(r);
  }
  return { attachments, failures };
}
