import { Alert } from "@mantine/core";
import { a } from "../../strings/admin.ts";
import { CopyField } from "./parts.tsx";
import type { Inbox } from "./schemas.ts";

type Item = { label: string; value: string; hint?: string };

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** What to paste into the provider's console for an inbox: its webhook URLs, token or snippet. */
export function setupItems(inbox: Inbox, workspaceId: string, origin: string): Item[] {
  const ws = encodeURIComponent(workspaceId);
  const id = encodeURIComponent(inbox.id);
  const s = a.setup;
  const statusCallback = {
    label: s.statusCallback,
    value: `${origin}/webhooks/twilio/status/${ws}`,
    hint: s.statusCallbackHint,
  };
  switch (inbox.kind) {
    case "sms":
    case "whatsapp":
      return [
        {
          label: s.messagingUrl,
          value: `${origin}/webhooks/twilio/${ws}/inbox/${id}`,
          hint: s.messagingUrlHint,
        },
        statusCallback,
      ];
    case "voice":
      return [
        { label: s.voiceUrl, value: `${origin}/webhooks/twilio/${ws}/voice/${id}`, hint: s.voiceUrlHint },
        statusCallback,
      ];
    case "messenger":
    case "instagram": {
      const token = str(inbox.config.verifyToken);
      return [
        { label: s.metaUrl, value: `${origin}/webhooks/meta/${ws}/inbox/${id}`, hint: s.metaUrlHint },
        ...(token ? [{ label: s.verifyToken, value: token, hint: s.verifyTokenHint }] : []),
      ];
    }
    case "x":
      return [{ label: s.xUrl, value: `${origin}/webhooks/x/${ws}/inbox/${id}`, hint: s.xUrlHint }];
    case "email": {
      const domain = str(inbox.config.replyDomain);
      return [
        ...(inbox.address
          ? [{ label: s.inboundAddress, value: inbox.address, hint: s.inboundAddressHint }]
          : []),
        { label: s.relayUrl, value: `${origin}/api/v1/inboxes/${id}/email`, hint: s.relayUrlHint },
        ...(domain ? [{ label: s.replyDomain, value: domain, hint: s.replyDomainHint }] : []),
      ];
    }
    case "chat":
      return [
        {
          label: s.snippet,
          value: `<script async src="${origin}/widget/v1/loader.js" data-workspace="${workspaceId}" data-inbox="${inbox.id}"></script>`,
          hint: s.snippetHint,
        },
      ];
    case "api":
      return [{ label: s.apiUrl, value: `${origin}/api/v1/inboxes/${id}/messages`, hint: s.apiUrlHint }];
    default:
      return [];
  }
}

/**
 * An inbox's setup: the URLs to paste into the provider. Right after creating an API inbox
 * its signing secret is shown too, once (`fresh`).
 */
export function InboxSetup({
  inbox,
  workspaceId,
  publicUrl,
  fresh,
}: {
  inbox: Inbox;
  workspaceId: string;
  /** The server's public address (what providers sign their calls with); this page's origin if unknown. */
  publicUrl: string | undefined;
  fresh: boolean;
}) {
  const items = setupItems(inbox, workspaceId, (publicUrl ?? location.origin).replace(/\/+$/, ""));
  const secret = inbox.kind === "api" ? str(inbox.config.webhookSecret) : undefined;
  return (
    <div className="admin-panel" data-inbox-setup={inbox.id}>
      <h3>{a.setup.title(inbox.name)}</h3>
      {items.length === 0 ? <p className="muted">{a.setup.nothing}</p> : null}
      {items.map((item) => (
        <CopyField key={item.label} label={item.label} value={item.value} hint={item.hint} />
      ))}
      {fresh && secret ? (
        <>
          <Alert color="yellow" role="status">
            {a.setup.secretOnce}
          </Alert>
          <CopyField label={a.setup.signingSecret} value={secret} hint={a.setup.signingSecretHint} />
        </>
      ) : null}
    </div>
  );
}
