import type { Attachment } from "../../api.ts";
import { locale } from "../../i18n.ts";
import { tm } from "../../strings/message.ts";
import { attachmentUrl, formatSize } from "./metadata.ts";

// images a browser shows without running anything (Rapport serves these inline)
const IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);

/**
 * A message's files: images shown (inline in a chat bubble, as thumbnails under an email),
 * their file name as the text alternative; anything else a download link with its size.
 */
export function Attachments({
  attachments,
  variant,
}: {
  attachments: Attachment[];
  variant: "inline" | "thumbnail";
}) {
  if (attachments.length === 0) return null;
  return (
    <ul className="message-attachments" aria-label={tm.attachments}>
      {attachments.map((a) => {
        const url = attachmentUrl(a);
        const image = IMAGES.has(a.contentType.toLowerCase());
        return (
          <li key={a.key}>
            {image ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                <img
                  src={url}
                  alt={a.name}
                  loading="lazy"
                  className={variant === "inline" ? "attachment-media" : "attachment-thumb"}
                />
              </a>
            ) : (
              <a href={url} download={a.name} aria-label={tm.download(a.name)}>
                {a.name}
              </a>
            )}
            {image && variant === "inline" ? null : (
              <span className="attachment-size">{formatSize(a.size, locale())}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
