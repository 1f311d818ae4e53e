import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { checkAttachmentLink } from "../../conversations/attachment-links.ts";
import { attachmentPath, attachmentStoreFor, isAttachmentKey } from "../../conversations/attachments.ts";
import { fileOf, MAX_UPLOAD_BYTES, readUpload } from "../../conversations/uploads.ts";
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

/** A stored file, with the headers under which nothing in it can run. */
function serve(
  reply: FastifyReply,
  file: { data: Buffer; contentType: string; name?: string | undefined },
  cacheControl: string,
) {
  const type = contentTypeOf(file.contentType);
  const inline = SAFE_IMAGES.has(type.essence);
  return reply
    .header("content-type", type.header)
    .header("content-disposition", disposition(inline ? "inline" : "attachment", file.name))
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", CSP)
    .header("cross-origin-resource-policy", "same-origin")
    .header("cache-control", cacheControl)
    .send(file.data);
}

const Uploaded = z.object({
  key: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  url: z.string(),
});

/**
 * Attachments of conversation messages: served to agents of their workspace, uploaded by agents
 * for their replies, and served by signed, expiring public links (MMS media, links in a chat).
 */
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
      // a key names one file forever; only the signed-in browser may keep it
      return serve(reply, file, "private, max-age=86400");
    },
  );

  // the upload is read here, counted as it comes: an oversized file gets the attachments error
  app.addContentTypeParser("multipart/form-data", (_request, payload, done) => {
    readUpload(payload).then(
      (body) => done(null, body),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err)), undefined),
    );
  });

  app.post(
    "/api/v1/attachments",
    {
      // the parser enforces the real limit; this keeps fastify's own ceiling out of its way
      bodyLimit: MAX_UPLOAD_BYTES * 2,
      schema: {
        tags: ["conversations"],
        security,
        summary: "Upload a file to attach to a reply",
        description:
          "`multipart/form-data` with one file (any field name), at most 10 MB (413 `attachments.too_large`); " +
          "an empty file is 400 `attachments.empty`, executables and scripts 400 `attachments.type_forbidden`. " +
          "Answers the stored file's `key` (give it in a reply's `attachments: [{ key }]`), its name, type and " +
          "size, and `url`, where signed-in agents can open it.",
        response: { 201: Uploaded },
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const file = await fileOf(request.body, request.headers["content-type"]);
      const stored = await attachmentStoreFor(app.ctx.config.dataDir).put(p.workspaceId, file);
      reply.status(201);
      return { ...stored, url: attachmentPath(stored.key) };
    },
  );

  app.get(
    "/files/v1/:workspaceId/:month/:file",
    {
      schema: {
        tags: ["conversations"],
        summary: "A reply's attachment by its signed public link",
        description:
          "What an MMS's media URL or a link in a reply points to: works without a session while its " +
          "signature holds and until it expires (`exp`, seven days after the reply). A bad signature or " +
          "unknown file is 404; an expired link 403 `attachments.link_expired_forbidden`.",
        params: z.object({
          workspaceId: z.string().max(64),
          month: z.string().max(16),
          file: z.string().max(80),
        }),
        querystring: z.object({ exp: z.string().max(20).optional(), sig: z.string().max(100).optional() }),
      },
    },
    async (request, reply) => {
      const { workspaceId, month, file: name } = request.params;
      const key = `${month}/${name}`;
      const notFound = new AppError(
        "attachments.not_found",
        "No file at this link: check it was copied whole.",
      );
      const check = await checkAttachmentLink(app.ctx.database.db, workspaceId, key, request.query);
      if (check === "invalid") throw notFound;
      if (check === "expired") {
        throw new AppError(
          "attachments.link_expired_forbidden",
          "This link has expired; ask for the file to be sent again.",
        );
      }
      const file = await attachmentStoreFor(app.ctx.config.dataDir).get(workspaceId, key);
      if (!file) throw notFound;
      return serve(reply, file, "private, max-age=3600");
    },
  );
};
