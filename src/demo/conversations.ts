import { createHash } from "node:crypto";
import { sanitizeEmailHtml } from "../channels/email/sanitize-html.ts";
import { updateConversation } from "../conversations/conversations.ts";
import { type InboundMessage, receiveInbound } from "../conversations/inbound.ts";
import { replyToConversation } from "../conversations/replies.ts";
import { storeKnownPost } from "../conversations/social-posts.ts";
import type { Db } from "../db/client.ts";
import { SCRIPTS, type Script } from "./conversation-scripts.ts";
import { DEMO_EMAIL_ADDRESS, DEMO_INSTAGRAM_ID, DEMO_PAGE_ID, type DemoInboxes } from "./inboxes.ts";

/** A demo customer as the conversations need them: how each channel knows them. */
export type DemoPerson = {
  userId: string;
  name: string;
  email: string;
  phone?: string | undefined;
  psid?: string | undefined;
  instagramId?: string | undefined;
  xHandle?: string | undefined;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// a stable numeric id from a seed: the demo's social ids are the same on every machine
const digits = (seed: string, length: number) =>
  BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 15)}`)
    .toString()
    .padEnd(length, "7")
    .slice(0, length);

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The demo inbox's history: a few dozen conversations across the channels, taken in through
 * `receiveInbound` as each channel's own code does (its identifiers, threads and metadata),
 * then some answered by an agent through the real reply path (to the sandbox outbox), some
 * resolved, prioritised and labelled.
 */
export async function seedConversations(
  db: Db,
  workspaceId: string,
  input: { inboxes: DemoInboxes; people: DemoPerson[]; agentId: string; now: number; publicUrl: string },
): Promise<number> {
  const { inboxes, people, now } = input;
  const withPhone = people.filter((p) => p.phone);
  const taken = new Set<string>();
  // each script gets a customer of its own, the first one the channel can reach
  const personFor = (script: Script, k: number): DemoPerson => {
    const pool = script.inbox === "sms" || script.inbox === "whatsapp" ? withPhone : people;
    const start = (k * 7) % Math.max(1, pool.length);
    for (let j = 0; j < pool.length; j++) {
      const p = pool[(start + j) % pool.length];
      if (p && !taken.has(p.userId)) {
        taken.add(p.userId);
        return p;
      }
    }
    throw new Error("the demo has too few customers for its conversations");
  };
  let count = 0;
  for (const [k, script] of SCRIPTS.entries()) {
    const person = personFor(script, k);
    const inbox = inboxes[script.inbox];
    const start = now - script.hoursAgo * HOUR;
    let conversationId = "";
    for (const [m, text] of script.says.entries()) {
      const at = new Date(start + m * 3 * MINUTE);
      const message = inboundFor(script, person, text, at, `${k}-${m}`, m === 0);
      const r = await receiveInbound(
        db,
        workspaceId,
        { inboxId: inbox.id, ...message },
        { defaultCountry: "US", inbox },
      );
      conversationId = r.conversationId;
    }
    count++;
    if (script.reply) {
      await replyToConversation(
        db,
        workspaceId,
        conversationId,
        input.agentId,
        { text: script.reply },
        { publicUrl: input.publicUrl },
      );
    }
    if (script.status || script.priority || script.labels) {
      await updateConversation(db, workspaceId, conversationId, {
        ...(script.status ? { status: script.status } : {}),
        ...(script.priority ? { priority: script.priority } : {}),
        ...(script.labels ? { labels: script.labels } : {}),
      });
    }
  }
  // the posts commented on, as the Graph API would have given them (the demo's inboxes are
  // sandboxed: nothing is read from Meta)
  const stored = new Set<string>();
  for (const script of SCRIPTS) {
    const post = script.comment;
    if (!post || stored.has(post.postId)) continue;
    stored.add(post.postId);
    await storeKnownPost(db, workspaceId, inboxes[script.inbox].id, post.postId, {
      text: post.postText,
      permalinkUrl: post.permalink,
      postedAt: new Date(now - post.postedHoursAgo * HOUR),
    });
  }
  return count;
}

/** One customer message as the script's channel would hand it to `receiveInbound`. */
function inboundFor(
  script: Script,
  person: DemoPerson,
  text: string,
  at: Date,
  ref: string,
  first: boolean,
): Omit<InboundMessage, "inboxId"> {
  const base = { text, receivedAt: at };
  switch (script.inbox) {
    case "sms":
    case "whatsapp": {
      const phone = person.phone ?? "";
      const wa = script.inbox === "whatsapp";
      const sid = `SM${createHash("sha256").update(`demo-${ref}`).digest("hex").slice(0, 32)}`;
      return {
        ...base,
        from: [
          { kind: "phone", value: phone },
          ...(wa ? [{ kind: "whatsapp_id" as const, value: phone }] : []),
        ],
        contactAddress: phone,
        ...(wa ? { traits: { name: person.name } } : {}),
        providerMessageId: sid,
        metadata: {
          channel: script.inbox,
          from: wa ? `whatsapp:${phone}` : phone,
          to: wa ? "whatsapp:+14155550101" : "+14155550100",
          ...(wa ? { waId: phone.slice(1), profileName: person.name } : {}),
          numMedia: 0,
        },
      };
    }
    case "email":
      return emailFor(script, person, text, at, ref, first);
    case "messenger":
    case "instagram": {
      const ig = script.inbox === "instagram";
      const id = (ig ? person.instagramId : person.psid) ?? digits(`${person.userId}-${script.inbox}`, 16);
      const kind = ig ? ("instagram_id" as const) : ("messenger_psid" as const);
      const mid = `m_demo_${createHash("sha256").update(ref).digest("base64url").slice(0, 40)}`;
      if (!script.comment) {
        return {
          ...base,
          from: [{ kind, value: id }],
          contactAddress: id,
          providerMessageId: mid,
          metadata: { source: ig ? "instagram_dm" : "messenger_dm", mid, from: { id } },
        };
      }
      const commentId = `${script.comment.postId.split("_").at(-1)}_${digits(ref, 16)}`;
      const username = person.name.toLowerCase().replace(/[^a-z]+/g, ".");
      return {
        ...base,
        from: [{ kind, value: id }],
        contactAddress: id,
        traits: ig ? { instagramUsername: username } : { name: person.name },
        providerMessageId: commentId,
        threadKey: `comments:${script.comment.postId}`,
        subject: ig ? "Comment on your Instagram post" : "Comment on your Facebook post",
        metadata: {
          source: ig ? "instagram_comment" : "facebook_comment",
          commentId,
          ...(ig
            ? { media: { id: script.comment.postId, productType: "FEED" } }
            : {
                post: {
                  id: script.comment.postId,
                  permalinkUrl: script.comment.permalink,
                  statusType: "added_photos",
                },
              }),
          // what the post says, for agents who answer under it
          postText: script.comment.postText,
          from: ig ? { id, username } : { id, name: person.name },
          owner: ig ? DEMO_INSTAGRAM_ID : DEMO_PAGE_ID,
          replyTo: { kind: "comment", id: commentId },
        },
      };
    }
    case "chat":
      return {
        ...base,
        from: [{ kind: "user_id", value: person.userId }],
        contactAddress: person.userId,
        providerMessageId: `widget:demo:${ref}`,
        threadKey: `user:${person.userId}`,
        source: { pageUrl: "https://melodia.example/help" },
        metadata: { widget: { pageUrl: "https://melodia.example/help" } },
      };
    case "x": {
      const handle = person.xHandle ?? person.name.replace(/[^A-Za-z0-9]/g, "").slice(0, 15);
      const xId = digits(`x-${handle}`, 19);
      const id = digits(`tweet-${ref}`, 19);
      const from = { id: xId, screenName: handle, name: person.name };
      return {
        ...base,
        from: [
          { kind: "x_id", value: xId },
          { kind: "x_handle", value: handle },
        ],
        contactAddress: xId,
        traits: { name: person.name },
        providerMessageId: id,
        threadKey: script.mention ? `tweet:${id}` : "dm",
        metadata: script.mention
          ? { channel: "x", kind: "mention", replyTo: { kind: "post", id }, from }
          : { channel: "x", kind: "dm", from },
      };
    }
  }
}

/** A customer's email as the email channel stores it: headers in metadata, sanitised HTML. */
function emailFor(
  script: Script,
  person: DemoPerson,
  text: string,
  at: Date,
  ref: string,
  first: boolean,
): Omit<InboundMessage, "inboxId"> {
  const idOf = (r: string) =>
    `<demo-${createHash("sha256").update(r).digest("hex").slice(0, 20)}@mail.example.com>`;
  const messageId = idOf(ref);
  // a new email thread is known by its first message's id, as the email channel keys it
  const root = idOf(`${ref.split("-")[0]}-0`);
  const quoted = first ? script.quoted : undefined;
  const plain = quoted
    ? `${text}\n\nOn ${quoted.at}, Melodia Support <${DEMO_EMAIL_ADDRESS}> wrote:\n${quoted.text
        .split("\n")
        .map((l) => `> ${l}`)
        .join("\n")}`
    : text;
  const paragraphs = text
    .split("\n\n")
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
  const html = `<div dir="ltr">${paragraphs}<p>${escapeHtml(person.name)}</p>${
    quoted
      ? `<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On ${escapeHtml(quoted.at)}, Melodia Support &lt;${DEMO_EMAIL_ADDRESS}&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${escapeHtml(
          quoted.text,
        ).replace(/\n/g, "<br>")}</blockquote></div>`
      : ""
  }</div>`;
  const subject = script.subject ?? "Question";
  return {
    text: `${plain}\n\n${person.name}`,
    html: sanitizeEmailHtml(html),
    receivedAt: at,
    from: [{ kind: "email", value: person.email }],
    contactAddress: person.email,
    providerMessageId: messageId,
    threadKey: root,
    subject,
    metadata: {
      messageId,
      inReplyTo: first ? null : root,
      references: first ? [] : [root],
      subject,
      from: { name: person.name, address: person.email },
      to: [DEMO_EMAIL_ADDRESS],
      date: at.toISOString(),
      threadedBy: first ? "new" : "references",
    },
  };
}
