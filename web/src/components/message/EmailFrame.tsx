import { useEffect, useRef } from "react";
import { language } from "../../i18n.ts";

/**
 * An email's HTML in a sandboxed frame served by Rapport under a policy where nothing runs.
 * The frame may be same-origin (never scripted), so the app reads its height and sizes it to
 * its content, again when images load or the quoted history opens.
 */
export function EmailFrame({
  conversationId,
  messageId,
  title,
}: {
  conversationId: string;
  messageId: string;
  title: string;
}) {
  const frame = useRef<HTMLIFrameElement>(null);
  const observer = useRef<ResizeObserver | undefined>(undefined);
  useEffect(() => () => observer.current?.disconnect(), []);
  const fit = () => {
    const el = frame.current;
    const doc = el?.contentDocument;
    if (!el || !doc?.documentElement) return;
    const size = () => {
      el.style.height = `${Math.ceil(doc.documentElement.getBoundingClientRect().height) + 2}px`;
    };
    size();
    observer.current?.disconnect();
    observer.current = new ResizeObserver(size);
    observer.current.observe(doc.documentElement);
  };
  const src = `/api/v1/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/html?lang=${language()}`;
  return (
    <iframe
      ref={frame}
      className="email-frame"
      title={title}
      src={src}
      // no allow-scripts, ever: links may open a new tab on a click, nothing else
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
      referrerPolicy="no-referrer"
      loading="lazy"
      onLoad={fit}
    />
  );
}
