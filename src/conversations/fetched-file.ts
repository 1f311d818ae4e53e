// What the channels share when they fetch a customer's file from a provider (MMS media, Meta
// attachments, call recordings) into the attachment store.

// the usual extension of each type a provider sends; anything else is kept as .bin
const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/heic": "heic",
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "video/3gpp": "3gp",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/aac": "aac",
  "audio/ogg": "ogg",
  "audio/wav": "wav",
  "audio/amr": "amr",
  "application/pdf": "pdf",
  "text/vcard": "vcf",
  "text/x-vcard": "vcf",
  "text/plain": "txt",
};

/** The file extension for a content type (`image/jpeg; …` → `jpg`), `bin` when unknown. */
export function extensionFor(contentType: string): string {
  return EXTENSIONS[contentType.split(";")[0]?.trim().toLowerCase() ?? ""] ?? "bin";
}

/**
 * Reads a response body to the end, refusing it as soon as it is declared or grows past
 * `limit` bytes (with `tooLarge`'s error, or a plain one).
 */
export async function readLimited(
  response: Response,
  limit: number,
  tooLarge: (limit: number) => Error = (l) => new Error(`larger than ${l} bytes`),
): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
