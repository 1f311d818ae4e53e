/** One conversation of the demo inbox: what the customer wrote, and where it stands. */
export type Script = {
  inbox: "sms" | "whatsapp" | "email" | "messenger" | "instagram" | "chat" | "x";
  /** When the customer's first message came, in hours before the demo was loaded. */
  hoursAgo: number;
  /** The customer's messages, a few minutes apart. */
  says: string[];
  /** An agent's answer, sent through the real reply path (it lands in the sandbox outbox). */
  reply?: string;
  status?: "resolved" | "pending";
  priority?: "low" | "medium" | "high" | "urgent";
  labels?: string[];
  /** Email: the subject, and the first message's HTML with the brand's earlier answer quoted. */
  subject?: string;
  quoted?: { at: string; text: string };
  /** Social: a comment under one of the brand's posts instead of a direct message. */
  comment?: DemoPost;
  /** X: a public mention instead of a DM. */
  mention?: boolean;
};

/** One of the brand's posts (or Instagram media) customers comment on. */
export type DemoPost = {
  postId: string;
  postText: string;
  permalink: string;
  /** When the brand posted it, in hours before the demo was loaded. */
  postedHoursAgo: number;
};

const OFFLINE_POST: DemoPost = {
  postId: "109876543210987_122134567890123456",
  postText: "Offline mode is here for everyone on Premium: download any playlist and listen anywhere ✈️",
  permalink: "https://www.facebook.com/melodia/posts/122134567890123456",
  postedHoursAgo: 26,
};
const WRAPPED_MEDIA: DemoPost = {
  postId: "18012345678901234",
  postText: "Your year in music is ready 🎧 What was your top song?",
  permalink: "https://www.instagram.com/p/C8xYz12AbCd/",
  postedHoursAgo: 30,
};

export const SCRIPTS: Script[] = [
  // SMS
  {
    inbox: "sms",
    hoursAgo: 0.4,
    says: ["Hi, I was charged twice for Premium this month. Can you check?", "Order ref MEL-48213"],
    priority: "high",
    labels: ["billing"],
  },
  {
    inbox: "sms",
    hoursAgo: 2,
    says: ["How do I cancel my family plan? The app only shows 'manage'."],
    reply:
      "Hi! Open Settings › Account › Plan and choose 'Cancel family plan'. Your members keep Premium until the end of the period.",
    status: "pending",
  },
  {
    inbox: "sms",
    hoursAgo: 30,
    says: ["Is there a student discount?"],
    status: "resolved",
    labels: ["sales"],
  },
  { inbox: "sms", hoursAgo: 5, says: ["The app logs me out every time I close it. iPhone 15, iOS 18.2"] },
  {
    inbox: "sms",
    hoursAgo: 72,
    says: ["My code MELO-GIFT-2291 says already used but I never used it"],
    status: "resolved",
  },
  // WhatsApp
  {
    inbox: "whatsapp",
    hoursAgo: 0.2,
    says: ["Bonjour ! Mon abonnement a été débité deux fois 😕", "C'est pour le compte famille"],
    priority: "medium",
    labels: ["billing"],
  },
  {
    inbox: "whatsapp",
    hoursAgo: 3,
    says: ["Hola, ¿puedo cambiar el idioma de la app a catalán?"],
    reply: "¡Hola! Sí: Ajustes › Idioma › Català. Si no aparece, actualiza la app a la última versión.",
  },
  {
    inbox: "whatsapp",
    hoursAgo: 50,
    says: ["Downloads stuck at 99% on Android", "Never mind, clearing the cache fixed it 👍"],
    status: "resolved",
  },
  { inbox: "whatsapp", hoursAgo: 8, says: ["Can I move my playlists from another app?"], labels: ["how-to"] },
  // email
  {
    inbox: "email",
    hoursAgo: 1,
    subject: "Re: Your refund request #R-2291",
    says: [
      "Hello,\n\nThanks for the quick answer, but the refund has still not reached my card after 10 days. Could you check again?\n\nBest regards",
    ],
    quoted: {
      at: "Mon, 17 Nov 2026 09:12:00 +0000",
      text: "Hi,\n\nWe have refunded your last payment. It usually reaches your card within 5 to 7 working days.\n\nMelodia Support",
    },
    priority: "high",
    labels: ["billing", "refund"],
  },
  {
    inbox: "email",
    hoursAgo: 4,
    subject: "Podcast episodes won't download",
    says: [
      "Hi team,\n\nSince yesterday no podcast episode downloads on my laptop (Windows 11, app 8.4.2). Songs are fine. I tried reinstalling.\n\nThanks,",
    ],
    reply:
      "Thanks for the details! We found the cause: a problem with episode downloads on 8.4.2. Version 8.4.3, out today, fixes it; could you update and tell us if it works?",
    status: "pending",
    labels: ["bug"],
  },
  {
    inbox: "email",
    hoursAgo: 26,
    subject: "Invoice for my company",
    says: ["Hello, I need an invoice with our VAT number (FR 12 345678901) for the last three months."],
    labels: ["billing"],
  },
  {
    inbox: "email",
    hoursAgo: 96,
    subject: "Lyrics out of sync",
    says: ["The lyrics are a few seconds late on most songs on my TV app."],
    status: "resolved",
    labels: ["bug"],
  },
  {
    inbox: "email",
    hoursAgo: 12,
    subject: "Change the email of my account",
    says: ["I no longer use this address. How can I move my account to a new email?"],
  },
  // Messenger
  {
    inbox: "messenger",
    hoursAgo: 0.6,
    says: ["Hi! My playlists disappeared after the update 😢 Can you help?"],
    priority: "medium",
  },
  {
    inbox: "messenger",
    hoursAgo: 6,
    says: ["The app crashes every time I open my library. Anyone else?"],
    comment: OFFLINE_POST,
    labels: ["bug"],
  },
  {
    inbox: "messenger",
    hoursAgo: 20,
    says: ["Does offline mode work on the free plan too?"],
    comment: OFFLINE_POST,
    reply: "Offline mode is part of Premium; you can try it free for a month from the app.",
  },
  {
    inbox: "messenger",
    hoursAgo: 60,
    says: ["Where can I find my listening history?"],
    status: "resolved",
  },
  // Instagram
  {
    inbox: "instagram",
    hoursAgo: 1.5,
    says: ["Hi, can I get a refund for last month? Premium didn't work offline."],
    labels: ["refund"],
  },
  {
    inbox: "instagram",
    hoursAgo: 9,
    says: ["Still no fix for offline mode?? 3 weeks now @melodia"],
    comment: WRAPPED_MEDIA,
    priority: "high",
  },
  {
    inbox: "instagram",
    hoursAgo: 40,
    says: ["Love the new design! Is dark mode coming to the web player?"],
    status: "resolved",
  },
  // chat widget
  {
    inbox: "chat",
    hoursAgo: 0.1,
    says: ["Hello, is anyone there?", "I can't log in with Google on the web player"],
    priority: "medium",
  },
  {
    inbox: "chat",
    hoursAgo: 2.5,
    says: ["What's the difference between Family and Duo?"],
    reply: "Duo is for 2 people at one address, Family for up to 6. Both include offline mode and no ads.",
    labels: ["sales"],
  },
  { inbox: "chat", hoursAgo: 28, says: ["How do I turn off autoplay?"], status: "resolved" },
  // X
  {
    inbox: "x",
    hoursAgo: 0.8,
    mention: true,
    says: ["@MelodiaCares my playlists vanished after the update & the app keeps crashing on launch 😩"],
    priority: "high",
    labels: ["bug"],
  },
  {
    inbox: "x",
    hoursAgo: 7,
    says: ["Hi! Still no playlists after updating. My account is on my email, order #A-1093."],
  },
  {
    inbox: "x",
    hoursAgo: 44,
    mention: true,
    says: ["@MelodiaCares thanks for fixing the shuffle bug so fast 🙌"],
    status: "resolved",
  },
];
