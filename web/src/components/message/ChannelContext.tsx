import type { Message } from "../../api.ts";
import { tm } from "../../strings/message.ts";
import { MetaMeta, ReplyMeta, read, safeLink, XMeta } from "./metadata.ts";

const META_SOURCES: Record<string, () => string> = {
  facebook_comment: () => tm.facebookComment,
  instagram_comment: () => tm.instagramComment,
  instagram_live_comment: () => tm.instagramLiveComment,
  messenger_dm: () => tm.directMessage,
  instagram_dm: () => tm.directMessage,
};

/**
 * What a social message is: a comment on a post (with the post's link), a reply in a comment
 * thread, a DM, a mention or quote on X (with the tweet's link); for an agent's reply, whether
 * it went out in public or in private, or that it was written outside Rapport.
 */
export function ChannelContext({ message: m }: { message: Message }) {
  const x = read(XMeta, m);
  const meta = x ? undefined : read(MetaMeta, m);
  const sentAs = read(ReplyMeta, m)?.replyTarget;
  const tags: string[] = [];
  let link: { href: string; label: string } | undefined;
  if (x) {
    tags.push(tm.xKinds[x.kind] ?? x.kind);
    const href = safeLink(x.tweet?.url);
    if (href) link = { href, label: tm.viewTweet };
  } else if (meta) {
    const source = META_SOURCES[meta.source];
    if (source) tags.push(source());
    if (meta.parentCommentId) tags.push(tm.commentReply);
    if (meta.story) tags.push(tm.storyReply);
    const href = safeLink(meta.post?.permalinkUrl);
    if (href) link = { href, label: tm.viewPost };
  }
  if (sentAs && sentAs !== "chat") tags.push(tm.replyKinds[sentAs] ?? sentAs);
  if (x?.elsewhere || meta?.elsewhere || meta?.echo) tags.push(tm.elsewhere);
  const quoted = x?.tweet?.quoted;
  if (tags.length === 0 && !link && !quoted) return null;
  return (
    <>
      <div className="message-context">
        {tags.map((tag) => (
          <span key={tag} className="message-tag">
            {tag}
          </span>
        ))}
        {link ? (
          <a href={link.href} target="_blank" rel="noopener noreferrer">
            {link.label}
          </a>
        ) : null}
      </div>
      {quoted ? (
        <blockquote className="message-quoted-tweet" aria-label={tm.quoted(quoted.user.screenName)}>
          {quoted.text}
        </blockquote>
      ) : null}
    </>
  );
}
