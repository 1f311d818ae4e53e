import type { GateContext } from "../consent/gate-input.ts";
import { preferenceLinks } from "../consent/preference-links.ts";
import type { Channel } from "../consent/tables.ts";
import type { Db } from "../db/client.ts";
import type { ReplyVia } from "./providers/types.ts";
import { chooseVariant, type RenderContext, renderContent, renderVariant } from "./render.ts";
import type { FileRef, RenderedContent } from "./tables.ts";
import { getTemplateByKey } from "./templates.ts";

export type Prepared = { content: RenderedContent; templateId: string | null; language: string | null };

/** The request as kept on the delivery row, to render again if a deferred send changes channel. */
export type StoredRequest = {
  topic: string;
  template?: string | undefined;
  content?:
    | { subject?: string | undefined; text: string; html?: string | undefined; title?: string | undefined }
    | undefined;
  data: Record<string, unknown>;
  publicUrl: string;
  thread?: { inReplyTo: string; references: string[] } | undefined;
  replyTo?: string | undefined;
  cc?: string[] | undefined;
  via?: ReplyVia | undefined;
  attachments?: FileRef[] | undefined;
  mediaUrls?: string[] | undefined;
};

/**
 * Renders a delivery's message for its channel: the template variant in the customer's
 * language (or the ad-hoc content), personalised, with the preference-center and
 * unsubscribe links, and for email the RFC 8058 one-click unsubscribe headers.
 */
export async function prepareContent(
  db: Db,
  workspaceId: string,
  input: {
    deliveryId: string;
    customer: {
      id: string;
      traits: Record<string, unknown>;
      identities: ReadonlyArray<{ kind: string; value: string }>;
    };
    gate: GateContext;
    channel: Channel;
    request: StoredRequest;
  },
): Promise<Prepared> {
  const { gate, channel, customer, request } = input;
  const links = preferenceLinks(gate.settings, request.publicUrl, {
    workspaceId,
    customerId: customer.id,
    channel,
    topicId: gate.topic.id,
    deliveryId: input.deliveryId,
  });
  const identities: Record<string, string[]> = {};
  for (const i of customer.identities) identities[i.kind] = [...(identities[i.kind] ?? []), i.value];
  const ctx: RenderContext = {
    customer: {
      id: customer.id,
      traits: customer.traits,
      identities,
      preferences: { language: gate.language, timezone: gate.input.timezone },
    },
    data: request.data,
    topic: {
      key: gate.topic.key,
      name: gate.topic.names[gate.language] ?? gate.topic.names.en ?? gate.topic.key,
    },
    language: gate.language,
    links,
  };
  let content: RenderedContent;
  let templateId: string | null = null;
  let language: string | null = gate.language;
  if (request.template) {
    const template = await getTemplateByKey(db, workspaceId, request.template);
    const chosen = chooseVariant(template.variants, template.defaultLanguage, gate.language);
    templateId = template.id;
    language = chosen.language;
    content = await renderVariant(chosen.variant, channel, { ...ctx, language: chosen.language });
  } else if (request.content) {
    const { subject, text, html, title } = request.content;
    content = await renderContent(
      {
        text,
        ...(subject !== undefined ? { subject } : {}),
        ...(html !== undefined ? { html } : {}),
        ...(title !== undefined ? { title } : {}),
      },
      channel,
      ctx,
    );
  } else {
    throw new Error("a send request has neither template nor content");
  }
  if (channel === "email") {
    content = {
      ...content,
      headers: {
        ...content.headers,
        "List-Unsubscribe": `<${links.unsubscribe}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        // the message's own answer address (a conversation's reply+ address) beats the provider's
        ...(request.replyTo ? { "Reply-To": request.replyTo } : {}),
        // RFC 5322 threading: the customer's mail client files the answer with their message
        ...(request.thread
          ? {
              "In-Reply-To": request.thread.inReplyTo,
              References: [...new Set([...request.thread.references, request.thread.inReplyTo])]
                .slice(-20)
                .join(" "),
            }
          : {}),
      },
    };
  }
  // files go where the channel carries them: attached to an email, fetched by Twilio for an MMS
  if (channel === "email" && request.cc?.length) content = { ...content, cc: request.cc };
  if (channel === "email" && request.attachments?.length)
    content = { ...content, attachments: request.attachments };
  if ((channel === "sms" || channel === "whatsapp") && request.mediaUrls?.length) {
    content = { ...content, mediaUrls: request.mediaUrls };
  }
  return { content, templateId, language };
}
