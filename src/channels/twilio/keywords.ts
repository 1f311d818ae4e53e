/** What an inbound SMS keyword asks for. */
export type KeywordAction = "stop" | "start" | "help";

const KEYWORDS: Record<string, KeywordAction> = {
  STOP: "stop",
  STOPALL: "stop",
  UNSUBSCRIBE: "stop",
  CANCEL: "stop",
  END: "stop",
  QUIT: "stop",
  START: "start",
  YES: "start",
  UNSTOP: "start",
  HELP: "help",
};

/**
 * The carrier keyword a message is, if the whole message (trimmed, any case) is one:
 * "stop" and " Stop " are, "please stop texting me" is not (as carriers and Twilio read them).
 */
export function detectKeyword(body: string): { action: KeywordAction; keyword: string } | undefined {
  const keyword = body.trim().toUpperCase();
  const action = KEYWORDS[keyword];
  return action ? { action, keyword } : undefined;
}

/** The confirmation carriers expect after a keyword, in the workspace's name. */
export function keywordReply(action: KeywordAction, brand: string): string {
  switch (action) {
    case "stop":
      return `You have been unsubscribed from ${brand} messages and will receive no more. Reply START to resubscribe.`;
    case "start":
      return `You are resubscribed to ${brand} messages. Reply STOP to unsubscribe, HELP for help.`;
    case "help":
      return `${brand}: reply to this message to reach our team. Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.`;
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === '"' ? "&quot;" : "&apos;",
  );
}

/** A TwiML answer: one reply message, or an empty `<Response/>` (Twilio then sends nothing). */
export function twiml(message?: string): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  return message === undefined
    ? `${head}<Response/>`
    : `${head}<Response><Message>${escapeXml(message)}</Message></Response>`;
}
