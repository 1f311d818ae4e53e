import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import type { Attachment } from "./tables.ts";

/** The largest file kept from any channel (an email's attachments each, an MMS image). */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/**
 * Where attachments live. The local folder is the default; an S3-compatible store can
 * implement the same three calls later.
 */
export interface AttachmentStore {
  put(workspaceId: string, file: { name: string; contentType: string; data: Buffer }): Promise<Attachment>;
  get(
    workspaceId: string,
    key: string,
  ): Promise<{ data: Buffer; contentType: string; name?: string | undefined } | undefined>;
}

// what put() makes: the month, then a UUIDv7 and 16 hex of the content's digest
const KEY = /^\d{4}-\d{2}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{16}$/;

/** Whether a string has the shape of a key the store made (checked before any file is touched). */
export function isAttachmentKey(key: string): boolean {
  return KEY.test(key);
}

/** Where agents' screens load an attachment from (relative to Rapport's own origin). */
export function attachmentPath(key: string): string {
  return `/api/v1/attachments/${key}`;
}

const SAFE_NAME = /[^\p{L}\p{N}._ -]+/gu;

/** A folder store: `<root>/<workspace>/<key>`, keys made here (never from a file's own name). */
export function localAttachmentStore(root: string): AttachmentStore {
  const base = resolve(root);
  const pathOf = (workspaceId: string, key: string) => {
    const p = resolve(base, workspaceId, key);
    // keys are ours, but a key read back from a request must not climb out of the folder
    if (!p.startsWith(base + sep))
      throw new AppError("conversations.invalid_attachment", "Not an attachment key.");
    return p;
  };
  return {
    async put(workspaceId, file) {
      if (file.data.length > MAX_ATTACHMENT_BYTES) {
        throw new AppError(
          "conversations.attachment_too_large",
          `An attachment may be at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB; "${file.name}" is ${Math.ceil(file.data.length / 1024 / 1024)} MB.`,
        );
      }
      const digest = createHash("sha256").update(file.data).digest("hex").slice(0, 16);
      const key = `${new Date().toISOString().slice(0, 7)}/${uuidv7()}-${digest}`;
      const path = pathOf(workspaceId, key);
      await mkdir(dirname(path), { recursive: true });
      // written whole, then moved into place: a reader never sees half a file
      await writeFile(`${path}.part`, file.data);
      await rename(`${path}.part`, path);
      await writeFile(`${path}.type`, file.contentType);
      const name = file.name.replace(SAFE_NAME, "_").slice(0, 200) || "attachment";
      await writeFile(`${path}.name`, name);
      return { key, name, contentType: file.contentType, size: file.data.length };
    },
    async get(workspaceId, key) {
      const path = pathOf(workspaceId, key);
      const found = await stat(path).catch(() => undefined);
      if (!found?.isFile()) return undefined;
      const contentType = await readFile(`${path}.type`, "utf8").catch(() => "application/octet-stream");
      // files stored before names were kept have none
      const name = await readFile(`${path}.name`, "utf8").catch(() => undefined);
      return { data: await readFile(path), contentType, name };
    },
  };
}

/** The store of a Rapport installation: `<data folder>/attachments`. */
export function attachmentStoreFor(dataDir: string): AttachmentStore {
  return localAttachmentStore(join(dataDir, "attachments"));
}
