import type { ParsedEmail } from "./parse.ts";

/** What a delivery failure report says about the message that failed. */
export type Bounce = {
  /** The failed message's Message-ID (ours: the delivery's provider message id), when found. */
  originalMessageId: string | undefined;
  /** The enhanced status code (5.1.1), when given. */
  status: string | undefined;
  diagnostic: string | undefined;
  /** A permanent failure (5.x.x): the address is suppressed. */
  hard: boolean;
  recipient: string | undefined;
};

// the parts of a report that carry its fields and the failed message's headers
const REPORT_TYPES =
  /^(?:message\/(?:rfc822|global|delivery-status|global-delivery-status|global-headers)|text\/rfc822-headers)$/;

/** Whether an email is a delivery failure report: a DSN (RFC 3464) or a mailer-daemon/postmaster message. */
export function isBounce(mail: ParsedEmail): boolean {
  if (
    mail.contentType.value === "multipart/report" &&
    (mail.contentType.params["report-type"] ?? "").toLowerCase() === "delivery-status"
  ) {
    return true;
  }
  const local = mail.from?.address.split("@")[0]?.toLowerCase();
  return local === "mailer-daemon" || local === "postmaster";
}

function field(sources: string[], name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t]+.*)*)`, "im");
  for (const s of sources) {
    const m = re.exec(s);
    if (m?.[1]) return m[1].replace(/\r?\n[ \t]+/g, " ").trim();
  }
  return undefined;
}

/**
 * Reads a bounce: the failed message's id (`Original-Message-ID`, else the returned
 * message's own `Message-ID`), the status, the diagnostic. Answers undefined for a report
 * that is not a failure (a delay or a success notice: `Action: delayed`/`delivered`).
 */
export function readBounce(mail: ParsedEmail): Bounce | undefined {
  const embedded = mail.attachments
    .filter((a) => REPORT_TYPES.test(a.contentType.toLowerCase()))
    .map((a) => a.content.toString("utf8"));
  // mailparser folds a message/delivery-status part into the text; the returned message may be there too
  const sources = [...embedded, mail.text];
  const actions = [
    ...mail.text.matchAll(/^Action:\s*([a-z]+)/gim),
    ...embedded.flatMap((e) => [...e.matchAll(/^Action:\s*([a-z]+)/gim)]),
  ].map((m) => (m[1] ?? "").toLowerCase());
  if (actions.length > 0 && !actions.includes("failed")) return undefined;
  const status =
    field(sources, "Status")?.match(/^[245]\.\d{1,3}\.\d{1,3}/)?.[0] ??
    mail.text.match(/\b[45]\.\d{1,3}\.\d{1,3}\b/)?.[0];
  const diagnostic = field(sources, "Diagnostic-Code")?.slice(0, 1000);
  let original = field(sources, "Original-Message-ID")?.match(/<[^<>\s]+>/)?.[0];
  if (!original) {
    for (const s of sources) {
      for (const m of s.matchAll(/^Message-ID:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)/gim)) {
        if (m[1] && m[1] !== mail.messageId) {
          original = m[1];
          break;
        }
      }
      if (original) break;
    }
  }
  const recipient = field(sources, "Final-Recipient")
    ?.replace(/^rfc822;\s*/i, "")
    .toLowerCase();
  const smtpCode = diagnostic?.match(/\b([45])\d\d\b/)?.[1] ?? mail.text.match(/\b([45])\d\d[ -]/)?.[1];
  const hard = status ? status.startsWith("5") : smtpCode === "5";
  return { originalMessageId: original, status, diagnostic, hard, recipient };
}
