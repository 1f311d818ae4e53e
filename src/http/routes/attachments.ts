import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { attachmentStoreFor, isAttachmentKey } from "../../conversations/attachments.ts";
import { AppError } from "../../errors.ts";
import { requireAuth } from "../auth.ts";

const security: Array<Record<string, string[]>> = [{ sessionCookie: [] }, { secretKey: [] }];

// images a browser shows without running anything; SVG is a document that can carry script
const SAFE_IMAGES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
]);
// a stored type came from a sender: only a plain `type/subtype` (with parameters) reaches a header
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
// nothing in a served file may run, load or frame anything, even opened on its own
const CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

function contentTypeOf(stored: string): { header: string; essence: string } {
  const [essence = "", ...params] = stored.split(";").map((p) => p.trim());
  const lower = essence.toLowerCase();
  if (!MEDIA_TYPE.test(lower))
    return { header: "application/octet-stream", essence: "application/octet-stream" };
  const charset = params.find((p) => /^charset=[a-z0-9._-]{1,40}$/i.test(p));
  return { header: charset ? `${lower}; ${charset}` : lower, essence: lower };
}

/** `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the real name. */
function disposition(kind: "inline" | "attachment", name: string | undefined): string {
  if (!name) return kind;
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Attachments and inline images of conversation messages, served to agents of their workspace. */
export const attachmentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/api/v1/attachments/:month/:file",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "A message's attachment or inline image",
        description:
          "Serves a file a message brought (an email's attachment or inline image, an MMS picture) to a " +
          "signed-in agent of its workspace. Raster images are shown inline; anything else is a download " +
          "(`Content-Disposition: attachment`), and every answer carries `X-Content-Type-Options: nosniff` " +
          "and a Content-Security-Policy under which nothing in the file can run. Another workspace's file " +
          "is not found.",
        params: z.object({ month: z.string().max(16), file: z.string().max(80) }),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const key = `${request.params.month}/${request.params.file}`;
      const notFound = new AppError(
        "conversations.attachment_not_found",
        "No attachment with that key in this workspace.",
      );
      if (!isAttachmentKey(key)) throw notFound;
      const file = await attachmentStoreFor(app.ctx.config.dataDir).get(p.workspaceId, key);
      if (!file) throw notFound;
      const type = contentTypeOf(file.contentType);
      const inline = SAFE_IMAGES.has(type.essence);
      return (
        reply
          .header("content-type", type.header)
          .header("content-disposition", disposition(inline ? "inline" : "attachment", file.name))
          .header("x-content-type-options", "nosniff")
          .header("content-security-policy", CSP)
          .header("cross-origin-resource-policy", "same-origin")
          // a key names one file forever; only the signed-in browser may keep it
          .header("cache-control", "private, max-age=86400")
          .send(file.data)
      );
    },
  );
};
