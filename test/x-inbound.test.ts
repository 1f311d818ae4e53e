import { describe, expect, it } from "vitest";
import { findByIdentifier } from "../src/profiles/customers.ts";
import { identify } from "../src/profiles/identify.ts";
import { createTestWorkspace } from "./support/factories.ts";
import {
  BRAND_ID,
  conversationsOf,
  customerCount,
  db,
  messagesOf,
  path,
  postSigned,
  raw,
  withXApp,
  xInbox,
} from "./support/x-webhook.ts";

const PAT_ID = "1590873366429388800";
const SAM_ID = "948221395704610816";
const MENTION_ID = "1899105532764213250";

withXApp();

describe("X mentions", () => {
  it("resolves the author to the known customer, opens one conversation answerable in public, stores a replay once", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    // the brand's CRM knew Pat's handle, written its own way
    const known = await identify(await db(), t.workspace.id, {
      identifiers: [
        { kind: "email", value: "pat@example.com" },
        { kind: "x_handle", value: "@Pat_Listens" },
      ],
      reason: "test",
      defaultCountry: "FR",
    });
    const res = await postSigned(path(t, inbox), raw("mention"));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ stored: 1, duplicates: 0, ignored: 0 });

    const [conversation, ...others] = await conversationsOf(t.workspace.id);
    expect(others).toHaveLength(0);
    expect(conversation).toMatchObject({
      customerId: known.customerId,
      contactAddress: PAT_ID,
      channel: "x",
      threadKey: `tweet:${MENTION_ID}`,
      status: "open",
    });
    const customer = await findByIdentifier(await db(), t.workspace.id, "x_id", PAT_ID, "FR");
    expect(customer?.id).toBe(known.customerId);
    expect(customer?.traits).toMatchObject({ name: "Pat Rivera" });
    expect(customer?.identities.map((i) => `${i.kind}:${i.value}`).sort()).toEqual([
      "email:pat@example.com",
      `x_handle:pat_listens`,
      `x_id:${PAT_ID}`,
    ]);

    const [message] = await messagesOf(t.workspace.id);
    expect(message).toMatchObject({
      direction: "inbound",
      providerMessageId: MENTION_ID,
      // X's escaping undone, the t.co link shown as what it stands for
      text: "@MelodiaCares my playlists vanished after the update & the app keeps crashing on launch 😩 https://help.melodia.example/crash-report/8841",
      metadata: {
        channel: "x",
        kind: "mention",
        replyTo: { kind: "post", id: MENTION_ID },
        from: { id: PAT_ID, screenName: "pat_listens", name: "Pat Rivera" },
        tweet: {
          id: MENTION_ID,
          url: `https://x.com/pat_listens/status/${MENTION_ID}`,
          inReplyToStatusId: null,
          quoted: null,
          mentions: [{ id: BRAND_ID, screenName: "MelodiaCares" }],
          urls: [
            { url: "https://t.co/Ab12Cd34Ef", expandedUrl: "https://help.melodia.example/crash-report/8841" },
          ],
        },
      },
    });

    // X delivers again (its retry, or a second subscription): same id, stored once
    const replay = await postSigned(path(t, inbox), raw("mention"));
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await messagesOf(t.workspace.id)).toHaveLength(1);
  });

  it("reads an extended quote tweet with a photo: full text, media apart, the quoted tweet in its details", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const res = await postSigned(path(t, inbox), raw("mention-quote-media"));
    expect(res.json()).toMatchObject({ stored: 1 });
    const [conversation] = await conversationsOf(t.workspace.id);
    expect(conversation).toMatchObject({ contactAddress: SAM_ID, threadKey: "tweet:1899118804451741697" });
    const [message] = await messagesOf(t.workspace.id);
    expect(message?.text).toBe(
      "@MelodiaCares Quoting your own post back at you: offline mode is gone on Android 15 and my whole commute is silent now. Downloads show 0 songs even though storage says 4 GB used. #offline",
    );
    expect(message?.metadata).toMatchObject({
      kind: "quote",
      replyTo: { kind: "post", id: "1899118804451741697" },
      tweet: {
        hashtags: ["offline"],
        quoted: {
          id: "1899001122334455808",
          url: "https://x.com/MelodiaCares/status/1899001122334455808",
          text: "We know some of you can't see your playlists after today's update & we're on it. Follow along here: https://status.melodia.example/incidents/42",
          user: { id: BRAND_ID, screenName: "MelodiaCares" },
        },
        media: [
          {
            id: "1899118790012345344",
            type: "photo",
            url: "https://pbs.twimg.com/media/GkQ2xYzW8AAbCdE.jpg",
            altText: "Screenshot: Downloads, 0 songs, 4 GB used",
          },
        ],
      },
    });
    const sam = await findByIdentifier(await db(), t.workspace.id, "x_handle", "samplays", "FR");
    expect(sam?.traits).toMatchObject({ name: "Sam Okafor 🎧" });
  });

  it("keeps the brand's reply made in X's app as an outbound message, and the customer's answer to it in the same thread", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    await postSigned(path(t, inbox), raw("mention"));
    const [conversation] = await conversationsOf(t.workspace.id);

    const brandReply = await postSigned(path(t, inbox), raw("brand-reply"));
    expect(brandReply.json()).toMatchObject({
      stored: 1,
      items: [{ id: "1899120077665544200", outcome: "stored", direction: "outbound", opened: false }],
    });
    const answer = await postSigned(path(t, inbox), raw("reply-to-brand"));
    expect(answer.json()).toMatchObject({
      stored: 1,
      items: [{ outcome: "stored", direction: "inbound", conversationId: conversation?.id, opened: false }],
    });

    expect(await conversationsOf(t.workspace.id)).toHaveLength(1);
    const messages = await messagesOf(t.workspace.id);
    expect(messages.map((m) => [m.direction, m.providerMessageId, m.conversationId])).toEqual([
      ["inbound", MENTION_ID, conversation?.id],
      ["outbound", "1899120077665544200", conversation?.id],
      ["inbound", "1899131450098765825", conversation?.id],
    ]);
    // the auto-mention X puts before a reply is not what the author wrote
    expect(messages[1]?.text).toBe(
      "So sorry, Pat! A fix is rolling out now: update to 8.4.1 & your playlists will be back.",
    );
    expect(messages[1]?.metadata).toMatchObject({ kind: "brand_reply", elsewhere: true });
    expect(messages[2]).toMatchObject({
      text: "Updated, they're back! Thank you 🙏",
      metadata: { kind: "reply", replyTo: { kind: "post", id: "1899131450098765825" } },
    });
  });

  it("opens nothing for the brand's own posts, replies outside Rapport's threads, retweets, or other people's tweets", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const post1 = await postSigned(path(t, inbox), raw("brand-post"));
    expect(post1.json()).toMatchObject({
      stored: 0,
      ignored: 1,
      items: [{ reason: "a post of the brand's, not a reply" }],
    });
    // the brand answering a tweet Rapport never saw
    const stray = await postSigned(path(t, inbox), raw("brand-reply"));
    expect(stray.json()).toMatchObject({
      items: [{ outcome: "ignored", reason: "a reply outside Rapport's conversations" }],
    });
    const rt = await postSigned(path(t, inbox), raw("retweet"));
    expect(rt.json()).toMatchObject({ items: [{ outcome: "ignored", reason: "a retweet" }] });

    const elsewhere = JSON.parse(raw("mention"));
    elsewhere.tweet_create_events[0].entities.user_mentions = [];
    const notUs = await postSigned(path(t, inbox), JSON.stringify(elsewhere));
    expect(notUs.json()).toMatchObject({
      items: [{ outcome: "ignored", reason: "neither mentions nor answers the brand" }],
    });

    expect(await conversationsOf(t.workspace.id)).toHaveLength(0);
    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
    expect(await customerCount(t.workspace.id)).toBe(0);
  });
});

describe("X direct messages", () => {
  it("keeps one DM conversation per customer, with the sender's name and handle from users", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    expect((await postSigned(path(t, inbox), raw("dm"))).json()).toMatchObject({ stored: 1 });
    expect((await postSigned(path(t, inbox), raw("dm-media"))).json()).toMatchObject({ stored: 1 });
    expect((await postSigned(path(t, inbox), raw("dm"))).json()).toMatchObject({ duplicates: 1 });

    const [conversation, ...others] = await conversationsOf(t.workspace.id);
    expect(others).toHaveLength(0);
    expect(conversation).toMatchObject({ contactAddress: PAT_ID, channel: "x", threadKey: "dm" });
    const messages = await messagesOf(t.workspace.id);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({
      providerMessageId: "1899140000111222333",
      text: "Hi! Still no playlists after updating. My account is pat@example.com, order #A-1093.",
      metadata: {
        channel: "x",
        kind: "dm",
        from: { id: PAT_ID, screenName: "pat_listens", name: "Pat Rivera" },
        dm: {
          eventId: "1899140000111222333",
          recipientId: BRAND_ID,
          sourceApp: { id: "3033300", name: "Twitter Web App" },
        },
      },
    });
    // DMs are answered by DM: nothing to reply to in public
    expect(messages[0]?.metadata.replyTo).toBeUndefined();
    expect(messages[1]).toMatchObject({
      text: "Here's what I see 👇",
      metadata: {
        dm: {
          media: [
            {
              id: "1899140540011223040",
              type: "photo",
              url: "https://ton.twitter.com/1.1/ton/data/dm/1899140555666777888/1899140540011223040/kP9sQ2rT.jpg",
            },
          ],
        },
      },
    });
    const pat = await findByIdentifier(await db(), t.workspace.id, "x_handle", "pat_listens", "FR");
    expect(pat?.id).toBe(conversation?.customerId);
    expect(pat?.traits).toMatchObject({ name: "Pat Rivera" });
  });

  it("stores the brand's DM written elsewhere in the customer's DM conversation, and opens nothing for a stranger", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const stranger = await postSigned(path(t, inbox), raw("brand-dm"));
    expect(stranger.json()).toMatchObject({
      stored: 0,
      items: [{ outcome: "ignored", reason: "to someone without a conversation" }],
    });

    await postSigned(path(t, inbox), raw("dm"));
    const res = await postSigned(path(t, inbox), raw("brand-dm"));
    expect(res.json()).toMatchObject({ stored: 1, items: [{ direction: "outbound", opened: false }] });
    const messages = await messagesOf(t.workspace.id);
    expect(messages.map((m) => m.direction)).toEqual(["inbound", "outbound"]);
    expect(messages[1]).toMatchObject({
      providerMessageId: "1899141234567890123",
      text: "Thanks Pat, I've restored your playlists from yesterday's backup. Could you check?",
      metadata: { kind: "brand_dm", elsewhere: true },
    });
    expect(await conversationsOf(t.workspace.id)).toHaveLength(1);
  });
});

describe("X events that are not messages", () => {
  it("acknowledges likes, follows and typing, and another account's events, storing nothing", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    for (const name of ["favorite", "follow", "dm-typing"]) {
      const res = await postSigned(path(t, inbox), raw(name));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ stored: 0, duplicates: 0, ignored: 1, items: [] });
    }
    // one X app's webhook carries every account it subscribed
    const other = JSON.parse(raw("dm"));
    other.for_user_id = "783214";
    const res = await postSigned(path(t, inbox), JSON.stringify(other));
    expect(res.json()).toMatchObject({ stored: 0, ignored: 1 });

    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
    expect(await customerCount(t.workspace.id)).toBe(0);
  });
});
