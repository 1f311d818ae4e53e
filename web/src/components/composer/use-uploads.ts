import { useCallback, useState } from "react";
import type { Attachment } from "../../api.ts";
import { uploadAttachment } from "../../conversation-queries.ts";
import { newClientId } from "../../queries.ts";
import type { Upload } from "./AttachmentChips.tsx";

/** The files attached to the reply being written: each uploads at once, and can be taken off. */
export function useUploads(initial: Attachment[]) {
  const [uploads, setUploads] = useState<Upload[]>(() =>
    initial.map((a) => ({
      id: a.key,
      name: a.name,
      state: "done",
      key: a.key,
      contentType: a.contentType,
      size: a.size,
    })),
  );
  const add = useCallback((files: FileList | File[]) => {
    const update = (id: string, patch: Partial<Upload>) =>
      setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...patch } : u)));
    for (const file of Array.from(files)) {
      const id = newClientId();
      setUploads((list) => [...list, { id, name: file.name, state: "uploading" }]);
      uploadAttachment(file).then(
        (a) => update(id, { state: "done", key: a.key, contentType: a.contentType, size: a.size }),
        (err: unknown) =>
          update(id, { state: "failed", error: err instanceof Error ? err.message : String(err) }),
      );
    }
  }, []);

  const done: Attachment[] = uploads.flatMap((u) =>
    u.state === "done" && u.key
      ? [
          {
            key: u.key,
            name: u.name,
            contentType: u.contentType ?? "application/octet-stream",
            size: u.size ?? 0,
          },
        ]
      : [],
  );
  return {
    uploads,
    done,
    busy: uploads.some((u) => u.state === "uploading"),
    add,
    remove: (id: string) => setUploads((list) => list.filter((u) => u.id !== id)),
    reset: () => setUploads([]),
  };
}
