import { CloseButton } from "@mantine/core";
import { tc } from "../../strings/conversation.ts";
import { Busy } from "../Busy.tsx";

export type Upload = {
  /** This screen's id of the upload. */
  id: string;
  name: string;
  state: "uploading" | "done" | "failed";
  key?: string;
  contentType?: string;
  size?: number;
  error?: string;
};

/** The files going with the reply, each with a way to take it off. */
export function AttachmentChips({
  uploads,
  onRemove,
}: {
  uploads: Upload[];
  onRemove: (id: string) => void;
}) {
  if (uploads.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label={tc.attachments}>
      {uploads.map((u) => (
        <li key={u.id} className="attachment-chip" data-state={u.state}>
          {u.state === "uploading" ? <Busy size={12} label={tc.uploading(u.name)} /> : null}
          <span className="attachment-name">{u.name}</span>
          {u.state === "failed" ? <span role="alert">{tc.uploadFailed(u.name, u.error ?? "")}</span> : null}
          <CloseButton size="sm" aria-label={tc.removeAttachment(u.name)} onClick={() => onRemove(u.id)} />
        </li>
      ))}
    </ul>
  );
}
