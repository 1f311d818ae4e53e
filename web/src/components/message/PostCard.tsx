import { useCallback, useId, useState } from "react";
import type { Post } from "../../api.ts";
import { formatDateTime } from "../../i18n.ts";
import { tm } from "../../strings/message.ts";
import { safeLink } from "./metadata.ts";

const NETWORKS: Record<string, string> = { messenger: "Facebook", instagram: "Instagram" };

/**
 * The post a comment conversation belongs to, at its top: the post's text (a few lines, with
 * Show more), its picture, when it was posted and its link. The text is the post as written,
 * shown as text (React escapes it). The picture is Meta's URL, which expires: it loads lazily,
 * sends no referrer, and is hidden when it fails.
 */
export function PostCard({ post, channel }: { post: Post; channel: string | null }) {
  const network = NETWORKS[channel ?? ""] ?? "Facebook";
  const label = useId();
  const textId = useId();
  const [expanded, setExpanded] = useState(false);
  // whether the clamped text hides lines: only then is there more to show
  const [overflows, setOverflows] = useState(false);
  const measured = useCallback((el: HTMLParagraphElement | null) => {
    if (!el) return;
    const measure = () => setOverflows(el.scrollHeight > el.clientHeight + 1);
    measure();
    // the width (and so the lines) change with the window and the panels beside
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const [pictureFailed, setPictureFailed] = useState(false);
  const ready = post.status === "ready";
  const href = safeLink(post.permalinkUrl);
  const picture = ready && !pictureFailed ? safeLink(post.mediaUrl) : undefined;

  return (
    <section className="post-card" aria-labelledby={label} data-post-status={post.status}>
      {picture ? (
        <img
          className="post-card-picture"
          src={picture}
          alt={tm.postPicture}
          loading="lazy"
          referrerPolicy="no-referrer"
          onError={() => setPictureFailed(true)}
        />
      ) : null}
      <div className="post-card-body">
        <p className="post-card-label" id={label}>
          {tm.postOn(network)}
        </p>
        {post.status === "pending" ? (
          <p className="post-card-note" role="status">
            {tm.postLoading}
          </p>
        ) : !ready ? (
          <p className="post-card-note">{tm.postUnavailable}</p>
        ) : post.text ? (
          <>
            <p
              ref={measured}
              id={textId}
              className={expanded ? "post-card-text" : "post-card-text post-card-clamped"}
            >
              {post.text}
            </p>
            {overflows || expanded ? (
              <button
                type="button"
                className="post-card-more"
                aria-expanded={expanded}
                aria-controls={textId}
                onClick={() => setExpanded((e) => !e)}
              >
                {expanded ? tm.showLess : tm.showMore}
              </button>
            ) : null}
          </>
        ) : null}
        {(ready && post.postedAt) || href ? (
          <p className="message-context">
            {ready && post.postedAt ? (
              <time dateTime={post.postedAt}>{tm.postedAt(formatDateTime(post.postedAt))}</time>
            ) : null}
            {href ? (
              <a href={href} target="_blank" rel="noopener noreferrer">
                {tm.viewOn(network)}
              </a>
            ) : null}
          </p>
        ) : null}
      </div>
    </section>
  );
}
