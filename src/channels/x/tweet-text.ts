import type { XDmEvent, XEntities, XMedia, XTweetCore } from "./payload.ts";

// v1.1 tweet text escapes these three, and only these; entity indices count the unescaped text
const unescapeTweet = (t: string) =>
  t.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");

/** A tweet's or DM's media, as agents see it in the message's metadata. */
export type XMediaView = {
  id: string;
  type: string;
  url: string | null;
  link: string | null;
  altText: string | null;
};

function mediaView(m: XMedia): XMediaView {
  return {
    id: m.id_str,
    type: m.type,
    url: m.media_url_https ?? null,
    link: m.expanded_url ?? null,
    altText: m.ext_alt_text ?? null,
  };
}

/**
 * Makes text readable: each t.co link becomes the address it stands for, and the links of
 * the media (listed apart) go. Replaced by the links' own text rather than their indices,
 * which X counts in ways that drift with escaping and emoji.
 */
function expandLinks(text: string, entities: XEntities | null | undefined, media: XMedia[]): string {
  let out = text;
  for (const m of media) if (m.url) out = out.replaceAll(m.url, "");
  for (const u of entities?.urls ?? []) {
    if (u.expanded_url) out = out.replaceAll(u.url, u.expanded_url);
  }
  return out.replace(/[ \t]+$/gm, "").trim();
}

/** A tweet's text, entities and media, from the extended form when X sent one. */
export type TweetContent = {
  /** What the author wrote, unescaped, with the reply's leading auto-mentions cut and links expanded. */
  text: string;
  /** The whole text as X sent it, unescaped (auto-mentions and t.co links included). */
  fullText: string;
  mentions: Array<{ id: string; screenName: string }>;
  hashtags: string[];
  urls: Array<{ url: string; expandedUrl: string | null }>;
  media: XMediaView[];
};

/** Reads a tweet's content the way agents want it (see `TweetContent`). */
export function tweetContent(tweet: XTweetCore): TweetContent {
  const ext = tweet.extended_tweet;
  const fullText = unescapeTweet(ext?.full_text ?? tweet.text);
  const entities = ext ? (ext.entities ?? tweet.entities) : tweet.entities;
  const media =
    (ext ? (ext.extended_entities ?? tweet.extended_entities) : tweet.extended_entities)?.media ?? [];
  // the range starts after the mentions X prepends to a reply; those are not the author's words
  const start = (ext ? ext.display_text_range : tweet.display_text_range)?.[0] ?? 0;
  const shown = Array.from(fullText).slice(start).join("");
  return {
    text: expandLinks(shown, entities, media),
    fullText,
    mentions: (entities?.user_mentions ?? []).map((m) => ({ id: m.id_str, screenName: m.screen_name })),
    hashtags: (entities?.hashtags ?? []).map((h) => h.text),
    urls: (entities?.urls ?? []).map((u) => ({ url: u.url, expandedUrl: u.expanded_url ?? null })),
    media: media.map(mediaView),
  };
}

/** A DM's text with links expanded and its attachment's link removed, and the attachment. */
export function dmContent(event: XDmEvent): { text: string; media: XMediaView[] } {
  const data = event.message_create?.message_data;
  const media = data?.attachment?.media ? [data.attachment.media] : [];
  return { text: expandLinks(data?.text ?? "", data?.entities, media), media: media.map(mediaView) };
}

/** The public address of a tweet. */
export function tweetUrl(screenName: string, id: string): string {
  return `https://x.com/${screenName}/status/${id}`;
}
