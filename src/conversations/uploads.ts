import type { Readable } from "node:stream";
import { AppError } from "../errors.ts";

/** The largest file an agent may attach to a reply. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
// the multipart envelope around the file: boundaries, part headers, a few small fields
const ENVELOPE_BYTES = 64 * 1024;

function tooLarge(): AppError {
  return new AppError(
    "attachments.too_large",
    `A file may be at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB: send a smaller one, or share a link to it.`,
    { maxBytes: MAX_UPLOAD_BYTES },
  );
}

/** Reads an upload's raw body, counted as it comes: past the limit it stops with `attachments.too_large`. */
export function readUpload(payload: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    payload.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES + ENVELOPE_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    payload.on("error", (err: Error) => {
      if (!failed) reject(err);
      failed = true;
    });
    payload.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
  });
}

// programs and scripts a customer's device would run: never sent on an agent's behalf
const FORBIDDEN_EXTENSIONS = new Set([
  "exe",
  "dll",
  "com",
  "bat",
  "cmd",
  "msi",
  "msp",
  "scr",
  "pif",
  "cpl",
  "jar",
  "js",
  "jse",
  "mjs",
  "vbs",
  "vbe",
  "wsf",
  "wsh",
  "ps1",
  "psm1",
  "sh",
  "bash",
  "zsh",
  "csh",
  "app",
  "apk",
  "dmg",
  "pkg",
  "deb",
  "rpm",
  "lnk",
  "reg",
  "hta",
  "msc",
  "gadget",
  "appimage",
  "run",
  "bin",
  "elf",
  "command",
]);
const FORBIDDEN_TYPES = new Set([
  "application/x-msdownload",
  "application/x-msdos-program",
  "application/x-dosexec",
  "application/x-executable",
  "application/x-sharedlib",
  "application/x-mach-binary",
  "application/x-sh",
  "application/x-shellscript",
  "application/x-bat",
  "application/x-msi",
  "application/java-archive",
  "application/x-java-archive",
  "application/vnd.android.package-archive",
  "application/x-apple-diskimage",
  "application/javascript",
  "text/javascript",
  "application/x-elf",
  "application/hta",
  "application/vnd.microsoft.portable-executable",
]);
// what executables begin with, whatever they are called: PE (MZ), ELF, Mach-O, Java class, a script's #!
const MAGIC: Buffer[] = [
  Buffer.from("MZ"),
  Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xce]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xcf]),
  Buffer.from([0xce, 0xfa, 0xed, 0xfe]),
  Buffer.from([0xcf, 0xfa, 0xed, 0xfe]),
  Buffer.from([0xca, 0xfe, 0xba, 0xbe]),
  Buffer.from("#!"),
];
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** Why a file may not be sent (its name, declared type or first bytes say it runs), or undefined. */
export function forbiddenFile(name: string, contentType: string, data: Buffer): string | undefined {
  const ext = /\.([A-Za-z0-9]{1,12})$/.exec(name.trim())?.[1]?.toLowerCase();
  if (ext && FORBIDDEN_EXTENSIONS.has(ext)) return `".${ext}" files are programs or scripts`;
  if (FORBIDDEN_TYPES.has(contentType)) return `${contentType} is a program or script`;
  if (MAGIC.some((m) => data.subarray(0, m.length).equals(m))) return "its content is a program or script";
  return undefined;
}

type UploadedFile = { name: string; size: number; type: string; arrayBuffer(): Promise<ArrayBuffer> };

/**
 * The one file of a `multipart/form-data` upload, checked: present, not empty, at most 10 MB,
 * not a program or script. Its type is the one the browser declared (a plain `type/subtype`).
 */
export async function fileOf(
  body: unknown,
  contentType: string | undefined,
): Promise<{ name: string; contentType: string; data: Buffer }> {
  if (!Buffer.isBuffer(body) || !contentType) {
    throw new AppError("attachments.invalid_upload", "Send the file as multipart/form-data.");
  }
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new AppError("attachments.invalid_upload", "The multipart/form-data body cannot be read.");
  }
  const files: UploadedFile[] = [];
  for (const v of form.values()) if (typeof v !== "string") files.push(v);
  if (files.length === 0) throw new AppError("attachments.no_file", "The form holds no file: add one.");
  if (files.length > 1) {
    throw new AppError("attachments.too_many_files", "Upload one file per request.", { files: files.length });
  }
  const [file] = files;
  if (!file) throw new AppError("attachments.no_file", "The form holds no file: add one.");
  if (file.size === 0)
    throw new AppError("attachments.empty", `"${file.name}" is empty: choose another file.`);
  if (file.size > MAX_UPLOAD_BYTES) throw tooLarge();
  const data = Buffer.from(await file.arrayBuffer());
  const declared = file.type.split(";")[0]?.trim().toLowerCase() ?? "";
  const type = MEDIA_TYPE.test(declared) ? declared : "application/octet-stream";
  const name = file.name.trim().slice(0, 255) || "attachment";
  const why = forbiddenFile(name, type, data);
  if (why) {
    throw new AppError("attachments.type_forbidden", `"${name}" cannot be sent: ${why}.`, { name });
  }
  return { name, contentType: type, data };
}
