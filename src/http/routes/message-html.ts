import { sql } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { sanitizeEmailHtml } from "../../channels/email/sanitize-html.ts";
import { attachmentPath, isAttachmentKey } from "../../conversations/attachments.ts";
import { getConversation } from "../../conversations/conversations.ts";
import { rows } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { isUuid } from "../../ids.ts";
import { requireAuth } from "../auth.ts";

// The frame an email's HTML is read in: nothing runs, nothing loads from elsewhere (remote
// images included), forms go nowhere; links open in a new tab (a user's click only: no script
// can open anything); only Rapport's own pages may frame it.
export const MESSAGE_HTML_CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  "style-src 'unsafe-inline'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
  "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox",
].join("; ");

const STRINGS = {
  en: {
    quoted: "Show quoted text",
    remote: (n: number) => `${n} remote ${n === 1 ? "image" : "images"} hidden`,
  },
  fr: {
    quoted: "Afficher le texte cité",
    remote: (n: number) => `${n} ${n === 1 ? "image distante masquée" : "images distantes masquées"}`,
  },
};

type Node = { tag: string; attrs: string; children: Node[] } | { text: string };
type Element = Extract<Node, { tag: string }>;

const VOID = new Set(["br", "col", "hr", "img", "wbr"]);
// the sanitiser writes every tag lower case with quoted, escaped attributes, and escapes text:
// its output reads back with one pattern
const TAG = /<(\/?)([a-z][a-z0-9]*)((?:\s[a-z-]+="[^"]*")*)>/g;

/** Reads sanitised HTML (well formed by construction) into a tree. */
function parse(html: string): Element {
  const root: Element = { tag: "", attrs: "", children: [] };
  const stack: Element[] = [root];
  let at = 0;
  for (const m of html.matchAll(TAG)) {
    const top = stack.at(-1) ?? root;
    if (m.index > at) top.children.push({ text: html.slice(at, m.index) });
    at = m.index + m[0].length;
    const [, closing, tag = "", attrs = ""] = m;
    if (closing) {
      const i = stack.map((e) => e.tag).lastIndexOf(tag);
      if (i > 0) stack.length = i;
      continue;
    }
    const el: Element = { tag, attrs, children: [] };
    top.children.push(el);
    if (!VOID.has(tag)) stack.push(el);
  }
  if (at < html.length) (stack.at(-1) ?? root).children.push({ text: html.slice(at) });
  return root;
}

function write(nodes: Node[]): string {
  return nodes
    .map((n) =>
      "text" in n
        ? n.text
        : `<${n.tag}${n.attrs}>${VOID.has(n.tag) ? "" : `${write(n.children)}</${n.tag}>`}`,
    )
    .join("");
}

function textOf(n: Node): string {
  const raw = "text" in n ? n.text : n.children.map(textOf).join("");
  return raw.replace(/&nbsp;|&#160;|&#xa0;/gi, " ").replace(/&amp;/g, "&");
}

// "On Mon, 2 Nov 2026, Ada <ada@example.com> wrote:", "Le 2 nov. 2026, Ada a écrit :", Outlook's separator
const ATTRIBUTION =
  /^\s*(?:On\s[\s\S]{1,400}\swrote:|Le\s[\s\S]{1,400}\sa\s+écrit\s*:|-{2,}\s*Original Message\s*-{2,}[\s\S]*)\s*$/i;

function isQuote(n: Node): boolean {
  if ("text" in n || n.tag !== "blockquote") return false;
  return /\stype="cite"/i.test(n.attrs) || /border-left/i.test(n.attrs);
}

function blank(n: Node): boolean {
  return "text" in n ? n.text.trim() === "" : n.tag === "br";
}

/** The path (child indexes from the root) to where the quoted history starts, if it has one. */
function quoteStart(root: Element): number[] | undefined {
  const walk = (el: Element, path: number[]): number[] | undefined => {
    for (let i = 0; i < el.children.length; i++) {
      const n = el.children[i];
      if (!n) continue;
      if (isQuote(n)) {
        // the attribution line just before the quote folds with it
        let j = i - 1;
        while (j >= 0 && el.children[j] && blank(el.children[j] as Node)) j--;
        const before = el.children[j];
        const own = before && textOf(before).length <= 500 && ATTRIBUTION.test(textOf(before));
        return [...path, own ? j : i];
      }
      const text = textOf(n);
      if (text.length <= 500 && ATTRIBUTION.test(text)) return [...path, i];
      if (!("text" in n)) {
        const inner = walk(n, [...path, i]);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return walk(root, []);
}

/** Cuts the tree at `path`: what comes from there to the end leaves it, its ancestors copied around it. */
function cut(el: Element, path: number[]): Node[] {
  const [i = 0, ...rest] = path;
  if (rest.length === 0) return el.children.splice(i);
  const child = el.children[i] as Element;
  const inner = cut(child, rest);
  const after = el.children.splice(i + 1);
  return [{ tag: child.tag, attrs: child.attrs, children: inner }, ...after];
}

/**
 * An email's sanitised HTML with its quoted history (a cited blockquote, Gmail's quote, an
 * "On … wrote:" block and all that follows) folded into a <details> that opens without script.
 */
export function foldQuotedHistory(html: string, summary: string): string {
  const root = parse(html);
  const start = quoteStart(root);
  // a message that is nothing but a quote (a forward) shows it as it is
  if (!start) return html;
  const folded = cut(root, start);
  if (textOf(root).trim() === "") return html;
  return `${write(root.children)}<details class="rapport-quoted"><summary>${summary}</summary>${write(folded)}</details>`;
}

// attachments Rapport serves itself survive a second sanitising as references it resolves back
const OWN_IMAGE = /\ssrc="\/api\/v1\/attachments\/([^"]+)"/g;
const REMOTE_IMAGE = /<img([^>]*?)\ssrc="(?:https?:)?\/\/[^"]*"/gi;

/** The document the frame shows: the stored HTML sanitised again, quotes folded, remote images left out. */
export function messageDocument(stored: string, lang: "en" | "fr"): string {
  const s = STRINGS[lang];
  const marked = stored.replace(OWN_IMAGE, (_all, key: string) => ` src="cid:rapport-attachment/${key}"`);
  const clean = sanitizeEmailHtml(marked, {
    cid: (id) => {
      const key = id.startsWith("rapport-attachment/") ? id.slice("rapport-attachment/".length) : "";
      return isAttachmentKey(key) ? attachmentPath(key) : undefined;
    },
  });
  let remote = 0;
  // blocked by the policy anyway; left out so no tracker is even asked for, and the agent told
  const local = clean.replace(REMOTE_IMAGE, (_all, before: string) => {
    remote += 1;
    return `<img${before} data-remote=""`;
  });
  const body = foldQuotedHistory(local, s.quoted);
  const note = remote > 0 ? `<p class="rapport-remote" role="note">${s.remote(remote)}</p>` : "";
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><base target="_blank"><style>${FRAME_CSS}</style></head><body>${note}${body}</body></html>`;
}

const FRAME_CSS = [
  "html{color-scheme:light}",
  "body{margin:0;padding:4px 2px;font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1b1e;overflow-wrap:anywhere}",
  "img{max-width:100%;height:auto}",
  "img[data-remote]{display:inline-block;min-width:2em;min-height:1em;border:1px dashed #868e96}",
  "table{max-width:100%}",
  "pre{white-space:pre-wrap}",
  "a{color:#1864ab}",
  ".rapport-remote{margin:0 0 8px;padding:4px 8px;background:#f1f3f5;color:#495057;font-size:12px;border-radius:4px}",
  ".rapport-quoted{margin-top:8px}",
  ".rapport-quoted>summary{cursor:pointer;color:#495057;font-size:12px}",
  "blockquote{margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex}",
].join("");

const Params = z.object({ id: z.string(), messageId: z.string() });

/** An email message's HTML, as its own sandboxed document, for the agent app's frame. */
export const messageHtmlRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = () => app.ctx.database.db;
  app.get(
    "/api/v1/conversations/:id/messages/:messageId/html",
    {
      schema: {
        tags: ["conversations"],
        security: [{ sessionCookie: [] }, { secretKey: [] }],
        summary: "An email message's HTML, as a sandboxed page",
        description:
          "The message's sanitised HTML as a document of its own, for a sandboxed frame: a Content-Security-Policy " +
          "under which nothing runs and nothing loads from elsewhere (remote images are left out and counted), " +
          "links open in a new tab, and quoted history is folded into a <details>. A message without HTML " +
          "(any other channel's) is `conversations.message_html_not_found` (404).",
        params: Params,
        querystring: z.object({ lang: z.enum(["en", "fr"]).default("en") }),
      },
    },
    async (request, reply) => {
      const p = await requireAuth(request);
      const { id, messageId } = request.params;
      await getConversation(db(), p.workspaceId, id);
      if (!isUuid(messageId)) {
        throw new AppError("conversations.invalid_id", `"${messageId}" is not a message id (a UUID).`, {
          id: messageId,
        });
      }
      const [message] = await rows<{ html: string | null }>(
        db(),
        sql`SELECT html FROM conversation_messages
            WHERE workspace_id = ${p.workspaceId} AND conversation_id = ${id} AND id = ${messageId}`,
      );
      if (!message) {
        throw new AppError(
          "conversations.message_not_found",
          "No message with that id in this conversation of this workspace.",
          { conversationId: id, messageId },
        );
      }
      if (!message.html) {
        throw new AppError(
          "conversations.message_html_not_found",
          "This message has no HTML (only emails do); read its text.",
          { messageId },
        );
      }
      return reply
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", MESSAGE_HTML_CSP)
        .header("x-content-type-options", "nosniff")
        .header("cross-origin-resource-policy", "same-origin")
        .header("referrer-policy", "no-referrer")
        .header("cache-control", "private, no-cache")
        .send(messageDocument(message.html, request.query.lang));
    },
  );
};
